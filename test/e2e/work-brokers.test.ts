// `queue work` across processes on real brokers: messages enqueued by one CLI run are worked by
// another, retried and dead-lettered through the broker itself.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()
const events = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)

const targets = [
  {name: 'redis list', url: 'redis://127.0.0.1:6379', queue: `list:work-e2e-${process.pid}`},
  {name: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: `work-e2e-${process.pid}`},
]

describe.each(targets)('queue work on $name', ({url, queue}) => {
  // AMQP queues must exist before enqueue; the adapter makes it (and removes it afterwards)
  const admin = async <T>(fn: (b: Awaited<ReturnType<typeof createBroker>>) => Promise<T>) => {
    const broker = await createBroker(url, {timeoutMs: 5000})
    try {
      await broker.connect()
      return await fn(broker)
    } finally {
      await broker.close()
    }
  }
  beforeAll(() => admin(async (b) => b.createQueue?.(queue)))
  afterAll(() => admin(async (b) => b.deleteQueue?.(queue)).catch(() => {}))

  it('works what another process enqueued until the queue is empty, dead-lettering what keeps failing', async () => {
    const sent = await runCli(['enqueue', '--url', url, queue, '--count', '6', '{"job":"resize"}'], {env})
    expect(sent.code).toBe(0)
    const ok = await runCli(['work', queue, '--url', url, '--echo', '--max-jobs', '3', '--json'], {env})
    expect(ok.code).toBe(0)
    const first = events(ok.stdout)
    expect(first.filter((e) => e.event === 'completed').map((e) => e.payload)).toEqual(Array(3).fill('{"job":"resize"}'))
    const bad = await runCli(
      ['work', queue, '--url', url, '--echo', '--until-empty', '--fail-rate', '1', '--max-attempts', '2', '--backoff', '10ms', '--json'],
      {env, timeoutMs: 60_000},
    )
    expect(bad.code).toBe(0)
    const all = events(bad.stdout)
    expect(all.filter((e) => e.event === 'dead')).toHaveLength(3)
    const summary = all.at(-1)!
    expect(summary).toMatchObject({event: 'summary', dead: 3, completed: 0, reason: 'empty'})
    // AMQP counts a delivery handed back unstarted by the first worker (no exact receive count)
    expect(summary.failed).toBeGreaterThanOrEqual(5)
    expect(summary.failed).toBeLessThanOrEqual(6)
  }, 180_000)
})
