// `queue work` across processes on real brokers: messages enqueued by one CLI run are worked by
// another, retried and dead-lettered through the broker itself.
import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {createBroker} from '../../src/adapters/registry.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()
/** Runs fn on a connected broker of its own, closed afterwards (AMQP queues must exist before enqueue). */
async function withBroker<T>(url: string, fn: (b: Broker) => Promise<T>): Promise<T> {
  const broker = await createBroker(url, {timeoutMs: 5000})
  try {
    await broker.connect()
    return await fn(broker)
  } finally {
    await broker.close()
  }
}

const events = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)

const targets = [
  // a Redis list has a dead list; this RabbitMQ queue has no DLX, so dropping is asked for explicitly
  {name: 'redis list', url: 'redis://127.0.0.1:6379', queue: `list:work-e2e-${process.pid}`, flags: [], deadOutcome: 'dead-lettered', deadCounts: {dead: 3, dropped: 0}},
  {name: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: `work-e2e-${process.pid}`, flags: ['--on-exhausted', 'drop'], deadOutcome: 'dropped', deadCounts: {dead: 0, dropped: 3}},
]

describe.each(targets)('queue work on $name', ({url, queue, flags, deadOutcome, deadCounts}) => {
  // AMQP queues must exist before enqueue; the adapter makes it (and removes it afterwards)
  const admin = <T>(fn: (b: Broker) => Promise<T>) => withBroker(url, fn)
  beforeAll(() => admin(async (b) => b.createQueue(queue)))
  afterAll(() => admin(async (b) => b.deleteQueue(queue)).catch(() => {}))

  it('works what another process enqueued until the queue is empty, dead-lettering (or, asked to, dropping) what keeps failing', async () => {
    const sent = await runCli(['enqueue', '--url', url, queue, '--count', '6', '{"job":"resize"}'], {env})
    expect(sent.code).toBe(0)
    const ok = await runCli(['work', queue, '--url', url, '--echo', '--max-jobs', '3', '--json'], {env})
    expect(ok.code).toBe(0)
    const first = events(ok.stdout)
    expect(first.filter((e) => e.event === 'completed').map((e) => e.payload)).toEqual(Array(3).fill('{"job":"resize"}'))
    const bad = await runCli(
      ['work', queue, '--url', url, '--echo', '--until-empty', '--fail-rate', '1', '--max-attempts', '2', '--backoff', '10ms', '--json', ...flags],
      {env, timeoutMs: 60_000},
    )
    expect(bad.code).toBe(0)
    const all = events(bad.stdout)
    expect(all.filter((e) => e.event === 'dead').map((e) => e.outcome)).toEqual(Array(3).fill(deadOutcome))
    const summary = all.at(-1)!
    expect(summary).toMatchObject({event: 'summary', completed: 0, reason: 'empty', ...deadCounts})
    // AMQP counts a delivery handed back unstarted by the first worker (no exact receive count)
    expect(summary.failed).toBeGreaterThanOrEqual(5)
    expect(summary.failed).toBeLessThanOrEqual(6)
  }, 180_000)
})

describe('queue work on a queue with no dead-letter route (a RabbitMQ queue without a DLX)', () => {
  const url = 'amqp://guest:guest@127.0.0.1:5672'
  const queue = `work-e2e-nodlx-${process.pid}`
  const admin = <T>(fn: (b: Broker) => Promise<T>) => withBroker(url, fn)
  beforeAll(() => admin(async (b) => b.createQueue(queue)))
  afterAll(() => admin(async (b) => b.deleteQueue(queue)).catch(() => {}))
  const failing = ['work', queue, '--url', url, '--echo', '--fail-rate', '1', '--max-attempts', '2', '--json']

  it('keeps a message out of attempts on the queue and stops (exit 1, naming the choices); drops only when told', async () => {
    expect((await runCli(['enqueue', '--url', url, queue, '--count', '2', '{"job":"poison"}'], {env})).code).toBe(0)
    const stopped = await runCli(failing.filter((f) => f !== '--json'), {env, timeoutMs: 60_000})
    expect(stopped.code).toBe(1)
    const lines = stopped.stderr.trim().split('\n')
    expect(lines).toContainEqual(expect.stringMatching(/^dead +\S+ +put back on the queue, stopping \(no dead-letter route\): failed 2 times, last: /))
    expect(lines.at(-1)).toMatch(/^Error: stopped: message \S+ failed 2 times and .* has no dead-letter route, so it was put back on the queue — .*--on-exhausted requeue .* or drop/)
    // a failed attempt goes back to the tail (a copy counting it), so the second message is tried once in between
    expect(stopped.stdout).toMatch(/0 completed, 3 failed \(2 retried, 0 dead, 1 out of attempts kept on the queue\).* — stopped: a message ran out of attempts/)
    // nothing lost: both messages are still on the queue
    await expect.poll(() => admin(async (b) => (await b.stats(queue)).counts.waiting), {timeout: 10_000}).toBe(2)

    const refused = await runCli([...failing.filter((f) => f !== '--json'), '--on-exhausted', 'dead-letter'], {env})
    expect(refused.code).toBe(2)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(refused.stderr).toMatch(/--on-exhausted dead-letter: .* has no dead-letter route \(capability deadLetter: false\)/)

    const dropped = await runCli([...failing, '--until-empty', '--backoff', '10ms', '--on-exhausted', 'drop'], {env, timeoutMs: 60_000})
    expect(dropped.code).toBe(0)
    const after = events(dropped.stdout)
    expect(after.filter((e) => e.event === 'dead').map((e) => e.outcome)).toEqual(['dropped', 'dropped'])
    expect(after.at(-1)).toMatchObject({event: 'summary', reason: 'empty', dropped: 2, dead: 0})
  }, 180_000)
})

describe('queue work counts attempts on a RabbitMQ classic queue (which only flags redeliveries)', () => {
  const url = 'amqp://guest:guest@127.0.0.1:5672'
  const amqpUrl = `${url}/`
  const withChannel = async <T>(fn: (ch: amqp.Channel) => Promise<T>) => {
    const conn = await amqp.connect(amqpUrl)
    try {
      return await fn(await conn.createChannel())
    } finally {
      await conn.close()
    }
  }
  const dlx = `work-e2e-attempts-dlx-${process.pid}`
  const plain = `work-e2e-attempts-plain-${process.pid}`
  beforeAll(() =>
    withChannel(async (ch) => {
      await ch.assertQueue(`${dlx}.dlq`, {durable: true})
      await ch.assertQueue(dlx, {durable: true, arguments: {'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': `${dlx}.dlq`}})
      await ch.assertQueue(plain, {durable: true})
    }),
  )
  afterAll(() =>
    withChannel(async (ch) => {
      for (const q of [dlx, `${dlx}.dlq`, plain]) await ch.deleteQueue(q)
    }).catch(() => {}),
  )
  const failing = (queue: string) => ['work', queue, '--url', url, '--echo', '--fail-rate', '1', '--backoff', '10ms', '--json']
  // with --json, a failing run ends with its error as a JSON block after the event lines
  const eventLines = (stdout: string) => events(stdout.split('\n').filter((l) => l.startsWith('{"event"')).join('\n'))
  const attemptsOf = (stdout: string, event: string) => eventLines(stdout).filter((e) => e.event === event).map((e) => e.attempt)

  it('a message that always fails reaches the dead-letter queue after exactly --max-attempts deliveries', async () => {
    expect((await runCli(['enqueue', '--url', url, dlx, '{"job":"poison"}'], {env})).code).toBe(0)
    const run = await runCli([...failing(dlx), '--until-empty', '--max-attempts', '4'], {env, timeoutMs: 60_000})
    expect(run.code).toBe(0)
    expect(attemptsOf(run.stdout, 'started')).toEqual([1, 2, 3, 4]) // the handler ran exactly 4 times
    expect(events(run.stdout).filter((e) => e.event === 'dead').map((e) => [e.attempt, e.outcome])).toEqual([[4, 'dead-lettered']])
    expect(events(run.stdout).at(-1)).toMatchObject({event: 'summary', failed: 4, retried: 3, dead: 1, reason: 'empty'})
    const peek = await runCli(['inspect', dlx, '--url', url, '--peek', '5', '--state', 'dead', '--json'], {env})
    expect(peek.code).toBe(0)
    const dead = (JSON.parse(peek.stdout) as {messages: {attempts: number; payload: string; headers: Record<string, string>}[]}).messages
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({attempts: 4, payload: '{"job":"poison"}', headers: {'x-queuectl-attempts': '4'}})
  }, 120_000)

  it('without a dead-letter route it is put back after exactly --max-attempts and the worker stops (exit 1); peek shows its attempts', async () => {
    expect((await runCli(['enqueue', '--url', url, plain, '{"job":"poison"}'], {env})).code).toBe(0)
    const run = await runCli([...failing(plain), '--max-attempts', '3'], {env, timeoutMs: 60_000})
    expect(run.code).toBe(1)
    expect(attemptsOf(run.stdout, 'started')).toEqual([1, 2, 3])
    expect(eventLines(run.stdout).filter((e) => e.event === 'dead').map((e) => [e.attempt, e.outcome])).toEqual([[3, 'kept']])
    expect(run.stdout).toMatch(/"message": "stopped: message \S+ failed 3 times and .* has no dead-letter route/)
    const peek = await runCli(['inspect', plain, '--url', url, '--peek', '5', '--json'], {env})
    expect(peek.code).toBe(0)
    const back = (JSON.parse(peek.stdout) as {messages: {attempts: number; payload: string}[]}).messages
    // one message, not a pile of copies; it has been delivered 3 times
    expect(back).toEqual([expect.objectContaining({attempts: 3, payload: '{"job":"poison"}'})])
  }, 120_000)
})
