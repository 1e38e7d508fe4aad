// Issue 23: where the brokers cannot keep message ids (all but RabbitMQ to RabbitMQ), `move` says
// the moved messages got new ids: one note: line on stderr, or a field of the --json result.
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {openBroker} from '../../src/adapters/registry.js'
import {newIdsNote, retryIdsNote} from '../../src/services/ops/move.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const URL = 'redis://127.0.0.1:6379/13'
const a = `list:wt-newbie2-ids-a-${process.pid}`
const b = `list:wt-newbie2-ids-b-${process.pid}`
const home = isolatedHome()

afterAll(async () => {
  const broker = await openBroker(URL, {timeoutMs: 5000})
  for (const q of [a, b]) await broker.deleteQueue(q).catch(() => {})
  await broker.close()
})

describe('move on Redis: the moved messages get new ids, and the command says so', () => {
  it('one note: line on stderr; with --json a note field, nothing on stderr', async () => {
    expect((await runCli(['enqueue', a, '{"n":1}', '--count', '2', '--url', URL], {env: home})).code).toBe(0)
    const moved = await runCli(['move', a, b, '--create', '--yes', '--idle', '500ms', '--url', URL], {env: home})
    expect(moved.code, moved.stderr).toBe(0)
    const notes = moved.stderr.split('\n').filter((l) => l.startsWith('note:'))
    expect(notes).toEqual(['note: the 2 moved messages got new ids (redis cannot keep message ids; only RabbitMQ to RabbitMQ does)'])
    expect(moved.stdout).not.toContain('new ids')

    const back = await runCli(['move', b, a, '--yes', '--idle', '500ms', '--json', '--url', URL], {env: home})
    expect(back.code, back.stderr).toBe(0)
    const result = JSON.parse(back.stdout) as {moved: number; note?: string}
    expect(result.moved).toBe(2)
    expect(result.note).toBe('the 2 moved messages got new ids (redis cannot keep message ids; only RabbitMQ to RabbitMQ does)')
    expect(back.stderr).not.toContain('note:')
  })

  it('nothing moved, no note', async () => {
    const none = await runCli(['move', b, a, '--yes', '--idle', '300ms', '--json', '--url', URL], {env: home})
    expect(none.code, none.stderr).toBe(0)
    expect((JSON.parse(none.stdout) as {note?: string}).note).toBeUndefined()
  })
})

describe('which retries give new ids', () => {
  // the rule itself, by transport name (the note is a pure function of it)
  const on = (transport: string) => ({transport}) as unknown as Broker
  it('a republishing retry (NATS, SQS, Kafka) or a move back from a dead-letter queue: new ids; RabbitMQ and same-job retries keep them', () => {
    expect(retryIdsNote(on('nats'), 'broker', 3)).toBe('the 3 retried messages got new ids (nats cannot keep message ids; only RabbitMQ to RabbitMQ does)')
    expect(retryIdsNote(on('sqs'), 'broker', 1)).toContain('the 1 retried message got new ids')
    expect(retryIdsNote(on('redis'), 'broker', 3)).toBeUndefined()
    expect(retryIdsNote(on('postgres'), 'broker', 3)).toBeUndefined()
    expect(retryIdsNote(on('amqp'), 'orders.dlq', 3)).toBeUndefined()
    expect(retryIdsNote(on('nats'), 'broker', 0)).toBeUndefined()
    expect(newIdsNote(on('amqp'), on('redis'), 2, 'moved')).toContain('(amqp to redis cannot keep message ids')
  })
})
