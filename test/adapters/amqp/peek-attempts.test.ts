// Looking costs nothing (issue 20): a peek requeues on RabbitMQ, raising the redelivered flag
// (classic) and x-delivery-count (quorum); neither may count as an attempt, or one `inspect --peek`
// sends a message that fails once to the dead-letter queue under `work --max-attempts 2`.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {AMQP_URL, declareQueue, dropAllTestQueues, openAmqp, uniqueQueue} from './helpers.js'

const env = isolatedHome()
const url = AMQP_URL.replace(/\/$/, '')
// fails the first delivery of each message (by id), succeeds after: the worker process lives across both
const handler = join(mkdtempSync(join(tmpdir(), 'queuectl-fail-once-')), 'fail-once.mjs')
writeFileSync(handler, `const seen = new Set()
export default async function (job) {
  if (seen.has(job.message.id)) return 'ok'
  seen.add(job.message.id)
  throw new Error('fails once')
}
`)

let broker: Broker
beforeAll(async () => {
  broker = await openAmqp()
})
afterAll(async () => {
  await broker?.close()
  await dropAllTestQueues()
}, 30_000)

const events = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{"event"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)

describe.each(['classic', 'quorum'] as const)('a peek on a %s queue', (type) => {
  it('costs no attempt: work --max-attempts 2 still runs a message that fails once a second time', async () => {
    const q = await declareQueue(uniqueQueue(`peek-att-${type}`), {type, dlq: true})
    await broker.enqueue(q, [{payload: '{"job":"once"}'}, {payload: '{"job":"twice"}'}])
    const peekedAttempts: number[][] = []
    for (let i = 0; i < 2; i++) {
      const peek = await runCli(['inspect', q, '--url', url, '--peek', '5', '--json'], {env})
      expect(peek.code).toBe(0)
      const out = JSON.parse(peek.stdout) as {messages: {attempts: number}[]; note: string}
      expect(out.note).toMatch(/flagged redelivered \(no attempt counted\)/)
      peekedAttempts.push(out.messages.map((m) => m.attempts))
    }
    const run = await runCli(['work', q, '--url', url, '--handler', handler, '--max-attempts', '2', '--backoff', '10ms', '--until-empty', '--json'], {
      env,
      timeoutMs: 60_000,
    })
    expect(run.code, run.stderr).toBe(0)
    const all = events(run.stdout)
    expect(all.filter((e) => e.event === 'started').map((e) => e.attempt)).toEqual([1, 1, 2, 2])
    expect(all.filter((e) => e.event === 'dead')).toEqual([])
    expect(all.at(-1)).toMatchObject({event: 'summary', completed: 2, failed: 2, dead: 0, reason: 'empty'})
    expect(await broker.peek(q, {limit: 5, state: 'dead'})).toEqual([])
    expect(peekedAttempts).toEqual([
      [0, 0],
      [0, 0],
    ])
  }, 120_000)
})
