// Issue 23: on RabbitMQ, `move` (and `retry`, which moves dead letters back through the same
// path) keeps each message's message-id, so a consumer that deduplicates by id still can.
import amqp from 'amqplib'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

const URL = 'amqp://guest:guest@127.0.0.1:5672/'
const home = isolatedHome()
const src = `wt-newbie-keepids-a-${process.pid}`
const dst = `wt-newbie-keepids-b-${process.pid}`

afterAll(async () => {
  const conn = await amqp.connect(URL)
  const ch = await conn.createChannel()
  for (const q of [src, dst]) await ch.deleteQueue(q).catch(() => undefined)
  await conn.close()
})

describe('RabbitMQ move keeps message ids', () => {
  it('the ids printed by enqueue are the ids of the moved messages', async () => {
    const sent = await runCli(['enqueue', src, '{"n":1}', '--count', '3', '--create', '--url', URL], {env: home})
    expect(sent.code).toBe(0)
    const ids = sent.stdout.trim().split('\n')
    expect(new Set(ids).size).toBe(3)
    const moved = await runCli(['move', src, dst, '--create', '--yes', '--idle', '1s', '--url', URL], {env: home})
    expect(moved.code, moved.stderr).toBe(0)
    // ids kept: no note about new ids
    expect(moved.stderr).not.toContain('new ids')
    const peek = await runCli(['inspect', dst, '--peek', '10', '--json', '--url', URL], {env: home})
    const messages = (JSON.parse(peek.stdout) as {messages: {id: string}[]}).messages
    expect(messages.map((m) => m.id).sort()).toEqual([...ids].sort())
  })
})
