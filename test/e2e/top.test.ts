// `queue top` without a terminal: one plain snapshot (or JSON) and exit, through the built bin,
// against real Redis; and several brokers at once, one of them down.
import {createServer, request} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {openBroker} from '../../src/adapters/registry.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

// a database of its own, and names of its own, so other suites' queues do not matter
const URL = 'redis://127.0.0.1:6379/13'
const tag = `top-once-${process.pid}`
const queues = [`${tag}-emails`, `${tag}-billing`]
let broker: Broker

beforeAll(async () => {
  broker = await openBroker(URL, {timeoutMs: 5000})
  await broker.enqueue(queues[0]!, [{payload: '{"n":1}'}, {payload: '{"n":2}'}, {payload: '{"n":3}'}])
  await broker.enqueue(queues[1]!, [{payload: 'x'}])
})

afterAll(async () => {
  for (const q of queues) await broker.deleteQueue(q).catch(() => {})
  await broker.close()
})

describe('queue top, not on a terminal', () => {
  const home = isolatedHome()

  it('prints one snapshot table and exits 0 (stdout is a pipe)', async () => {
    const r = await runCli(['top', '--url', URL, '--queue', `list:${queues[0]}`, '--queue', `list:${queues[1]}`], {env: home})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^QUEUE\s+KIND\s+WAITING\s+IN-FLIGHT/)
    expect(r.stdout).toMatch(new RegExp(`${queues[0]}\\s+list\\s+3\\s`))
    expect(r.stdout).toMatch(new RegExp(`${queues[1]}\\s+list\\s+1\\s`))
    // plain: no escape sequences in a CI log
    expect(r.stdout).not.toMatch(/\u001B/)
  })

  it('--once --json gives the same data as JSON', async () => {
    const r = await runCli(['top', '--once', '--json', '--url', URL], {env: home})
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {brokers: {broker: string; queues: {name: string; counts: {waiting?: number}}[]}[]}
    expect(out.brokers).toHaveLength(1)
    expect(out.brokers[0]!.broker).toBe(URL)
    const emails = out.brokers[0]!.queues.find((q) => q.name.endsWith(queues[0]!))
    expect(emails?.counts.waiting).toBe(3)
  })

  it('with several brokers, one down, shows the others and the error of the one down', async () => {
    const r = await runCli(['top', '--once', '--json', '--url', URL, '--url', 'redis://:sekret@127.0.0.1:1/0', '--timeout', '2s'], {env: home})
    expect(r.code).toBe(0)
    expect(r.stdout).not.toContain('sekret')
    const out = JSON.parse(r.stdout) as {brokers: {broker: string; error?: string; queues: unknown[]}[]}
    expect(out.brokers.map((b) => b.broker)).toEqual([URL, 'redis://:***@127.0.0.1:1/0'])
    expect(out.brokers[0]!.queues.length).toBeGreaterThanOrEqual(2)
    expect(out.brokers[1]!.error).toMatch(/127\.0\.0\.1:1/)
  })

  it('a single broker that is down is exit 3 with one line', async () => {
    const r = await runCli(['top', '--once', '--url', 'redis://127.0.0.1:1', '--timeout', '2s'], {env: home})
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('refuses a too short --interval and --all-contexts without contexts (exit 2)', async () => {
    const short = await runCli(['top', '--interval', '10ms', '--url', URL], {env: home})
    expect(short.code).toBe(2)
    expect(short.stderr).toMatch(/--interval 10ms is too short/)
    const none = await runCli(['top', '--all-contexts'], {env: home})
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no saved contexts/)
  })

  it('--all-contexts watches the broker of every saved context', async () => {
    const ctxHome = isolatedHome()
    expect((await runCli(['context', 'add', 'one', URL], {env: ctxHome})).code).toBe(0)
    expect((await runCli(['context', 'add', 'two', 'memory://'], {env: ctxHome})).code).toBe(0)
    const r = await runCli(['top', '--all-contexts', '--json'], {env: ctxHome})
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {brokers: {label: string}[]}
    expect(out.brokers.map((b) => b.label).sort()).toEqual(['one', 'two'])
  })

  it('--all-contexts gives each context its own options: an AMQP context reaches its management API through its own mgmtUrl', async () => {
    // a loopback proxy in front of RabbitMQ's management API, counting what reaches it: the
    // default (same host, :15672) would work too, so only the count tells the mgmtUrl was used
    let requests = 0
    const proxy = createServer((req, res) => {
      requests++
      const upstream = request({host: '127.0.0.1', port: 15672, method: req.method, path: req.url, headers: req.headers}, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers)
        up.pipe(res)
      })
      upstream.on('error', () => res.writeHead(502).end())
      req.pipe(upstream)
    })
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const port = (proxy.address() as AddressInfo).port
      const ctxHome = isolatedHome()
      expect((await runCli(['context', 'add', 'rabbit', 'amqp://guest:guest@127.0.0.1:5672', '--mgmt-url', `http://127.0.0.1:${port}`], {env: ctxHome})).code).toBe(0)
      expect((await runCli(['context', 'add', 'redis', URL], {env: ctxHome})).code).toBe(0)
      const r = await runCli(['top', '--all-contexts', '--json'], {env: ctxHome})
      expect(r.code).toBe(0)
      const out = JSON.parse(r.stdout) as {brokers: {label: string; error?: string; queues: unknown[]}[]}
      const rabbit = out.brokers.find((b) => b.label === 'rabbit')
      expect(rabbit?.error).toBeUndefined()
      expect(requests).toBeGreaterThan(0)
    } finally {
      proxy.close()
    }
  })
})
