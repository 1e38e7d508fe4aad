// RabbitMQ: read-only commands work for a user tagged `monitoring` with read-only permissions on
// its vhost (configure "", write "", read ".*"), and leave every queue's messages as they were.
// A private vhost and user, made through the management API and deleted afterwards.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {MGMT_AUTH, MGMT_URL} from './helpers.js'

const home = isolatedHome()
const VHOST = `qctl-ro-${process.pid}-${Date.now().toString(36)}`
const USER = `qctl-reader-${process.pid}`
const QUEUE = 'ro-orders'
const adminUrl = `amqp://guest:guest@127.0.0.1:5672/${VHOST}`
const readerUrl = `amqp://${USER}:pw@127.0.0.1:5672/${VHOST}`

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const res = await fetch(`${MGMT_URL}/api/${path}`, {method, headers: {authorization: MGMT_AUTH, 'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
  if (!res.ok && !(method === 'DELETE' && res.status === 404)) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
  return res
}

/** Every queue of the vhost with its message counts (the management API's own view). */
async function counts(): Promise<Record<string, number>> {
  const queues = (await (await api('GET', `queues/${encodeURIComponent(VHOST)}?columns=name,messages`)).json()) as {name: string; messages?: number}[]
  return Object.fromEntries(queues.map((q) => [q.name, q.messages ?? 0]))
}

describe('amqp: read-only commands for a monitoring user with read-only permissions', {timeout: 90_000}, () => {
  beforeAll(async () => {
    await api('PUT', `vhosts/${encodeURIComponent(VHOST)}`)
    await api('PUT', `permissions/${encodeURIComponent(VHOST)}/guest`, {configure: '.*', write: '.*', read: '.*'})
    await api('PUT', `users/${encodeURIComponent(USER)}`, {password: 'pw', tags: 'monitoring'})
    await api('PUT', `permissions/${encodeURIComponent(VHOST)}/${encodeURIComponent(USER)}`, {configure: '', write: '', read: '.*'})
    await api('PUT', `queues/${encodeURIComponent(VHOST)}/${QUEUE}`, {durable: true})
    const r = await runCli(['enqueue', QUEUE, '{"n":1}', '--count', '3', '--url', adminUrl], {env: home, timeoutMs: 60_000})
    expect({code: r.code, stderr: r.stderr}).toEqual({code: 0, stderr: ''})
    // the management API's message counts lag the broker by its stats interval
    for (let i = 0; i < 100 && (await counts())[QUEUE] !== 3; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  }, 60_000)

  afterAll(async () => {
    await api('DELETE', `users/${encodeURIComponent(USER)}`).catch(() => undefined)
    await api('DELETE', `vhosts/${encodeURIComponent(VHOST)}`).catch(() => undefined)
  })

  it('inspect, inspect --peek, top --once, metrics --once, wait, export and purge/move --dry-run succeed, create no queue and leave the messages as they were', async () => {
    const before = await counts()
    expect(before[QUEUE]).toBe(3)
    const cli = (args: string[]) => runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
    const runs = {
      list: await cli(['inspect', '--json']),
      inspect: await cli(['inspect', QUEUE, '--json']),
      peek: await cli(['inspect', QUEUE, '--peek', '10', '--json']),
      top: await cli(['top', '--once']),
      metrics: await cli(['metrics', '--once']),
      wait: await cli(['wait', QUEUE, '--until', 'depth>0', '--timeout', '10s']),
      export: await cli(['export', QUEUE]),
      purge: await cli(['purge', QUEUE, '--dry-run']),
      move: await cli(['move', QUEUE, `${QUEUE}-copy`, '--create', '--dry-run']),
    }
    const failed = Object.entries(runs).filter(([, r]) => r.code !== 0 || r.stderr.replace(/^note: peeking took the messages and requeued them.*\n/, '').replace(/^exported \d+ messages? from .*\n/, '') !== '').map(([what, r]) => `${what}: ${r.code} ${r.stderr.trim()}`)
    expect(failed).toEqual([])
    expect(JSON.parse(runs.peek.stdout)).toMatchObject({messages: [{body: {n: 1}}, {body: {n: 1}}, {body: {n: 1}}]})
    expect(runs.top.stdout).toContain(QUEUE)
    expect(runs.metrics.stdout).toContain(QUEUE)
    for (let i = 0; i < 50 && (await counts())[QUEUE] !== 3; i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(await counts()).toEqual(before)
  })

  it('without a management tag: a named queue (inspect, --peek, wait) still reads over AMQP alone; listing queues names the tag it needs', async () => {
    await api('PUT', `users/${encodeURIComponent(USER)}`, {password: 'pw', tags: ''})
    const cli = (args: string[]) => runCli([...args, '--url', readerUrl], {env: home, timeoutMs: 60_000})
    for (const args of [['inspect', QUEUE], ['inspect', QUEUE, '--peek', '1', '--json'], ['wait', QUEUE, '--until', 'depth>0', '--timeout', '10s']]) {
      const r = await cli(args)
      expect({args, code: r.code, stderr: r.stderr}).toEqual({args, code: 0, stderr: ''})
    }
    const list = await cli(['inspect'])
    expect(list.code).toBe(3)
    expect(list.stderr).toMatch(/needs the RabbitMQ management API, and the management API at .* refused the credentials \(HTTP 401\) — check the user and password, and that the user has the "monitoring" or "management" tag\n$/)
  })

  it('a publish by the read-only user is refused in one line saying nothing was stored and naming the write permission (was: "may or may not be in" the queue)', async () => {
    const r = await runCli(['enqueue', QUEUE, '{"n":2}', '--url', readerUrl], {env: home, timeoutMs: 60_000})
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(new RegExp(`^Error: .*refused to let this user write to "${QUEUE}" \\(ACCESS_REFUSED .*\\): 0 of 1 stored, the rest NOT — give the user write permission on the vhost \\(rabbitmqctl set_permissions .*\\), or use another user\n$`))
    expect(r.stderr).not.toMatch(/may or may not/)
  })
})
