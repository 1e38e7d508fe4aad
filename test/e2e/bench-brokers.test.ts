// `queue bench` on the real brokers: small runs that must account for every message and leave no
// bench queue behind.
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()
const sqs = process.env.SQS_TEST_ENDPOINT ? `sqs://bench:bench@${new URL(process.env.SQS_TEST_ENDPOINT).host}?region=us-east-1` : undefined
const targets = [
  {name: 'redis list', url: 'redis://127.0.0.1:6379', queue: `list:bench-e2e-${process.pid}`, count: 2000},
  {name: 'bullmq', url: 'redis://127.0.0.1:6379', queue: `bullmq:bench-e2e-${process.pid}`, count: 300},
  {name: 'amqp', url: 'amqp://guest:guest@127.0.0.1:5672', queue: `bench-e2e-${process.pid}`, count: 1000},
  ...(sqs ? [{name: 'sqs', url: sqs, queue: `bench-e2e-${process.pid}`, count: 200}] : []),
]

describe.each(targets)('queue bench on $name', ({url, queue, count}) => {
  it('processes every message exactly once and deletes the queue it created', async () => {
    const r = await runCli(['bench', '--url', url, '--queue', queue, '--count', String(count), '--json'], {env, timeoutMs: 120_000})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as Record<string, any>
    expect(result).toMatchObject({sent: count, processed: count, lost: 0, duplicates: 0, partial: false})
    expect(result.latency.count).toBe(count)
    const after = await runCli(['inspect', '--url', url, queue], {env})
    expect(after.code).toBe(4)
  }, 240_000)
})

describe('queue bench --persistent / --confirms on RabbitMQ (a choice there) and memory (always confirmed)', () => {
  it.each([
    ['amqp://guest:guest@127.0.0.1:5672', ['--no-persistent', '--no-confirms'], {persistent: false, confirms: false}],
    ['amqp://guest:guest@127.0.0.1:5672', ['--persistent', '--confirms'], {persistent: true, confirms: true}],
    ['memory://', ['--confirms', '--no-persistent'], {persistent: false, confirms: true}],
  ])('%s %j: every message accounted for, the choice recorded in the result', async (url, flags, plan) => {
    const r = await runCli(['bench', '--url', url, '--count', '2000', '--json', ...flags], {env, timeoutMs: 120_000})
    expect(r.code).toBe(0)
    const result = JSON.parse(r.stdout) as Record<string, any>
    expect(result).toMatchObject({sent: 2000, processed: 2000, lost: 0, duplicates: 0, plan})
  }, 180_000)
})

describe('queue bench --agents on Redis', () => {
  it('two processes meet through the broker; the leader prints the merged result', async () => {
    const queue = `list:bench-agents-${process.pid}`
    const args = ['bench', '--url', 'redis://127.0.0.1:6379', '--queue', queue, '--agents', '2', '--run-id', `e2e-${process.pid}`, '--count', '500', '--json']
    const [a, b] = await Promise.all([runCli(args, {env, timeoutMs: 180_000}), runCli(args, {env, timeoutMs: 180_000})])
    expect([a.code, b.code]).toEqual([0, 0])
    const outputs = [a.stdout, b.stdout].filter((s) => s.trim() !== '')
    expect(outputs).toHaveLength(1)
    const merged = JSON.parse(outputs[0]!) as Record<string, any>
    expect(merged).toMatchObject({agents: 2, sent: 1000, processed: 1000, lost: 0, duplicates: 0, partial: false})
    expect(merged.latency.count).toBe(1000)
  }, 240_000)
})
