// End to end through the built bin (npm run build first): the AMQP adapter's bad inputs and the
// Celery flavor as a user meets them on the command line.
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {declareQueue, dropAllTestQueues, uniqueQueue} from './helpers.js'

const URL_OK = 'amqp://guest:guest@127.0.0.1:5672/'
const home = isolatedHome()
const cli = (args: string[]) => runCli(args, {env: home, timeoutMs: 60_000})

afterAll(() => dropAllTestQueues(), 30_000)

describe('queue CLI on amqp://', () => {
  it('a wrong password: exit 3, one line, the password nowhere', async () => {
    const secret = 'N0tThePa55'
    const r = await cli(['inspect', '--url', `amqp://guest:${secret}@127.0.0.1:5672/`])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/refused the login/)
    expect(r.stdout + r.stderr).not.toContain(secret)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('--mgmt-url with a wrong password: exit 3 saying the management API refused the credentials, password nowhere', async () => {
    const secret = 'N0tTheMgmtPa55'
    const q = await declareQueue(uniqueQueue('cli-mgmt-auth'))
    for (const args of [['inspect'], ['inspect', q], ['enqueue', q, '{}']]) {
      const r = await cli([...args, '--url', URL_OK, '--mgmt-url', `http://guest:${secret}@127.0.0.1:15672`])
      expect(r.code, `${args[0]} ${args.length}: ${r.stderr}`).toBe(3)
      expect(r.stderr).toMatch(/management API at http:\/\/127\.0\.0\.1:15672 \(--mgmt-url\) refused the credentials/)
      expect(r.stdout + r.stderr).not.toContain(secret)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    // the right password in --mgmt-url works
    const ok = await cli(['inspect', '--url', URL_OK, '--mgmt-url', 'http://guest:guest@127.0.0.1:15672', '--json'])
    expect(ok.code).toBe(0)
  })

  it('a stream keeps what is consumed: move and work --until-empty are refused at once (they never ended), nothing touched', async () => {
    const q = await declareQueue(uniqueQueue('cli-stream'), {args: {'x-queue-type': 'stream'}})
    expect((await cli(['enqueue', q, '{"n":1}', '--url', URL_OK])).code).toBe(0)
    for (const args of [['move', q, `${q}-to`, '--create', '-y'], ['work', q, '--echo', '--until-empty']]) {
      const r = await cli([...args, '--url', URL_OK])
      expect(r.code, `${args[0]}: ${r.stderr}`).toBe(4)
      expect(r.stderr).toMatch(new RegExp(`queue "${q}" on amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:5672/ cannot be emptied by consuming: it keeps what is consumed — a RabbitMQ stream is a log`))
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    const listed = await cli(['inspect', '--url', URL_OK, '--json'])
    const names = (JSON.parse(listed.stdout) as {queues: {name: string}[]}).queues.map((x) => x.name)
    expect(names).toContain(q)
    expect(names).not.toContain(`${q}-to`)
  })

  it('a vhost that does not exist: exit 3', async () => {
    const r = await cli(['inspect', '--url', 'amqp://guest:guest@127.0.0.1:5672/nowhere-vhost'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/vhost "nowhere-vhost"/)
  })

  it('enqueue to a queue that does not exist: exit 4, not a silent drop', async () => {
    const q = uniqueQueue('cli-missing')
    const r = await cli(['enqueue', q, '{"a":1}', '--url', URL_OK])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain(`queue "${q}" not found`)
  })

  it('enqueue --flavor celery, then inspect --peek shows the decoded task', async () => {
    const q = await declareQueue(uniqueQueue('cli-celery'))
    const sent = await cli(['enqueue', q, '["a@b.c", 3]', '--name', 'mail.send', '--flavor', 'celery', '--url', URL_OK])
    expect(sent.code).toBe(0)
    const r = await cli(['inspect', q, '--peek', '5', '--json', '--url', URL_OK])
    expect(r.code).toBe(0)
    const out = JSON.parse(r.stdout) as {queue: {counts: {waiting: number}}; messages: {name: string; body: {args: unknown[]}; headers: Record<string, string>}[]}
    expect(out.queue.counts.waiting).toBe(1)
    expect(out.messages[0]).toMatchObject({name: 'mail.send', body: {args: ['a@b.c', 3], kwargs: {}}, headers: {task: 'mail.send', lang: 'py'}})
  })

  it('inspect without a queue lists queues through the management API', async () => {
    const q = await declareQueue(uniqueQueue('cli-listed'))
    const r = await cli(['inspect', '--json', '--url', URL_OK])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(q)
  })

  it('delay is refused (exit 4, one line)', async () => {
    const q = await declareQueue(uniqueQueue('cli-delay'))
    const r = await cli(['enqueue', q, 'x', '--delay', '5s', '--url', URL_OK])
    expect(r.code).toBe(4)
    // the command refuses by capability first; the adapter's own refusal names TTL + DLX (bad-input.test.ts)
    expect(r.stderr).toMatch(/cannot delay .*rabbitmq_delayed_message_exchange.*x-message-ttl/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
  })
})
