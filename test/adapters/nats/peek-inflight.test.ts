// `--peek --state inflight` lists only the messages still pending, so the list agrees with the
// count (num_ack_pending): not one the server gave up on after max_deliver, which stays in a
// work-queue stream above the ack floor while other messages are pending (issue 20).
import {jetstream, type Consumer, type JetStreamClient} from '@nats-io/jetstream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {NATS_URL, admin, dropStream, makeStream, openNats, uniqueStream} from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const env = isolatedHome()

/** Pulls up to n messages without acking them (a worker that died): their seqs. */
async function pullUnacked(c: Consumer, n: number): Promise<number[]> {
  const seqs: number[] = []
  for await (const m of await c.fetch({max_messages: n, expires: 1000})) seqs.push(m.seq)
  return seqs
}

describe('nats:// inflight peek', () => {
  let broker: Broker
  let conn: Awaited<ReturnType<typeof admin>>
  let js: JetStreamClient
  const made: string[] = []
  beforeAll(async () => {
    conn = await admin()
    js = jetstream(conn.nc)
    broker = await openNats()
  })
  afterAll(async () => {
    for (const s of made) await dropStream(conn.jsm, s)
    await broker?.close()
    await conn?.nc.close()
  })

  it('leaves out a message that used up max_deliver: count and list agree', async () => {
    const s = await makeStream(conn.jsm, uniqueStream('inflight'), {ackWaitMs: 500, maxDeliver: 2})
    made.push(s)
    const c = await js.consumers.get(s, 'worker')
    await js.publish(s, 'spent')
    expect(await pullUnacked(c, 1)).toEqual([1])
    await sleep(700)
    expect(await pullUnacked(c, 1)).toEqual([1]) // its second and last delivery
    await sleep(700)
    await js.publish(s, 'two')
    await js.publish(s, 'three')
    // the server tries "spent" a third time, gives it up, and delivers the other two
    expect(await pullUnacked(c, 2)).toEqual([2, 3])
    const info = await conn.jsm.consumers.info(s, 'worker')
    expect({pending: info.num_ack_pending, floor: info.ack_floor.stream_seq, delivered: info.delivered.stream_seq}).toEqual({pending: 2, floor: 0, delivered: 3})

    expect((await broker.stats(s)).counts.inflight).toBe(2)
    const inflight = await broker.peek(s, {limit: 10, state: 'inflight'})
    expect(inflight.map((m) => m.payload.toString())).toEqual(['two', 'three'])
    expect((await broker.peek(s, {limit: 1, state: 'inflight'})).map((m) => m.payload.toString())).toEqual(['two'])
    const r = await runCli(['inspect', s, '--url', NATS_URL, '--peek', '10', '--state', 'inflight', '--json'], {env})
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as {queue: {counts: {inflight: number}}; messages: {payload: string}[]}
    expect(out.messages.map((m) => m.payload)).toEqual(['two', 'three'])
    expect(out.queue.counts.inflight).toBe(out.messages.length)
  }, 30_000)
})
