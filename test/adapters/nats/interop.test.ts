// nats:// next to a raw @nats-io/jetstream client: the numbers `queue inspect` shows are consumer
// info's, what queuectl publishes a raw consumer receives byte for byte, dead letters go to
// STREAM_DLQ and back, and the retention kinds and consumer layouts resolve as documented.
import {RetentionPolicy, jetstream, type JetStreamClient} from '@nats-io/jetstream'
import {headers} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {admin, dropStream, makeStream, openNats, uniqueStream} from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function take(broker: Broker, queue: string, n: number, leaseMs?: number): Promise<Lease[]> {
  const got: Lease[] = []
  const sub = await broker.consume(queue, (l) => got.push(l), {prefetch: n, leaseMs})
  for (let i = 0; i < 250 && got.length < n; i++) await sleep(20)
  await sub.close()
  expect(got).toHaveLength(n)
  return got
}

describe('nats:// with a raw JetStream client', () => {
  let broker: Broker
  let conn: Awaited<ReturnType<typeof admin>>
  let js: JetStreamClient
  const made: string[] = []
  const fresh = async (hint: string, opts?: Parameters<typeof makeStream>[2]) => {
    const name = await makeStream(conn.jsm, uniqueStream(hint), opts)
    made.push(name)
    return name
  }
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

  it('a half-consumed stream shows consumer info\'s pending / ack-pending / redelivered', async () => {
    const s = await fresh('half', {ackWaitMs: 1000})
    for (let i = 0; i < 10; i++) await js.publish(s, `m${i}`)
    const c = await js.consumers.get(s, 'worker')
    const first = await c.fetch({max_messages: 6, expires: 2000})
    let i = 0
    for await (const m of first) if (i++ < 2) m.ack() // 2 acked, 4 left unacked
    await sleep(1300) // the 4 unacked come due again
    const again = await c.fetch({max_messages: 2, expires: 1000})
    for await (const m of again) expect(m.info.redelivered).toBe(true)
    const info = await conn.jsm.consumers.info(s, 'worker')
    const stats = await broker.stats(s)
    expect(info.num_redelivered).toBeGreaterThan(0)
    expect(stats.counts.waiting).toBe(info.num_pending)
    expect(stats.counts.inflight).toBe(info.num_ack_pending)
    expect(stats.details).toMatchObject({redelivered: info.num_redelivered, pullRequestsWaiting: info.num_waiting, retention: 'workqueue', ackWaitMs: 1000})
    expect(stats.counts).toMatchObject({waiting: 4, inflight: 4, dead: 0})
    expect(stats.oldestAgeMs).toBeGreaterThan(0)
  }, 20_000)

  it('enqueue → a raw consumer gets the exact bytes and headers; Nats-Msg-Id deduplicates', async () => {
    const s = await fresh('exact')
    const payload = Buffer.from([0, 1, 2, 255, 254, 0x7f, 10, 13])
    await broker.enqueue(s, [{payload, name: 'resize', contentType: 'application/octet-stream', headers: {trace: 'abc-123', 'X-Tenant': 'acme'}, dedupId: 'job-1'}])
    await broker.enqueue(s, [{payload, dedupId: 'job-1'}])
    expect((await conn.jsm.streams.info(s)).state.messages).toBe(1)
    const msgs = await (await js.consumers.get(s, 'worker')).fetch({max_messages: 1, expires: 2000})
    for await (const m of msgs) {
      expect(Buffer.from(m.data).equals(payload)).toBe(true)
      expect(m.subject).toBe(s)
      expect(m.headers?.get('trace')).toBe('abc-123')
      expect(m.headers?.get('X-Tenant')).toBe('acme')
      expect(m.headers?.get('Nats-Msg-Id')).toBe('job-1')
      expect(m.headers?.get('Queuectl-Name')).toBe('resize')
      expect(m.headers?.get('Content-Type')).toBe('application/octet-stream')
      m.ack()
    }
  })

  it('a raw publish reads back with its headers, name and attempts; peek is exact and side-effect free', async () => {
    const s = await fresh('peek')
    const h = headers()
    h.set('Queuectl-Name', 'email')
    h.set('k', 'v')
    await js.publish(s, 'one', {headers: h})
    await js.publish(s, 'two')
    const [lease] = await take(broker, s, 1)
    expect(lease!.message).toMatchObject({name: 'email', headers: {k: 'v'}, attempts: 1, id: '1'})
    const waiting = await broker.peek(s, {limit: 10})
    const inflight = await broker.peek(s, {limit: 10, state: 'inflight'})
    expect(waiting.map((m) => m.payload.toString())).toEqual(['two'])
    expect(inflight.map((m) => m.payload.toString())).toEqual(['one'])
    const info = await conn.jsm.consumers.info(s, 'worker')
    expect(info.num_ack_pending).toBe(1)
    expect(info.num_pending).toBe(1)
    await lease!.ack()
  })

  it('dead letters go to STREAM_DLQ with the reason, and retry sends them back', async () => {
    const s = await fresh('dlq')
    await broker.enqueue(s, [{payload: 'bad', headers: {trace: 't1'}}])
    const [lease] = await take(broker, s, 1)
    await lease!.deadLetter('it broke')
    expect((await broker.stats(s)).counts).toMatchObject({waiting: 0, inflight: 0, dead: 1})
    expect((await broker.stats(s)).details).toMatchObject({deadLetterQueue: `${s}_DLQ`})
    const [dead] = await broker.peek(s, {limit: 5, state: 'dead'})
    expect(dead).toMatchObject({lastError: 'it broke', attempts: 1, headers: {trace: 't1'}})
    expect(await broker.listQueues()).not.toContainEqual(expect.objectContaining({name: `${s}_DLQ`}))
    expect(await broker.retry!(s, {})).toBe(1)
    expect((await broker.stats(s)).counts).toMatchObject({waiting: 1, dead: 0})
    const [back] = await take(broker, s, 1)
    expect(back!.message.payload.toString()).toBe('bad')
    expect(back!.message.headers).toEqual({trace: 't1'})
    await back!.ack()
  })

  it('max_deliver exhausted: the last nack takes the dead-letter route', async () => {
    const s = await fresh('maxdeliver', {maxDeliver: 2})
    await broker.enqueue(s, [{payload: 'flaky'}])
    await (await take(broker, s, 1))[0]!.nack({failed: true})
    const [second] = await take(broker, s, 1)
    expect(second!.message.attempts).toBe(2)
    await second!.nack({failed: true})
    const [dead] = await broker.peek(s, {limit: 5, state: 'dead'})
    expect(dead?.lastError).toMatch(/max_deliver \(2\) exhausted/)
    expect(await broker.purge(s, 'dead')).toBe(1)
  })

  it('extend / leaseMs keep a lease past the consumer\'s ack_wait with +WPI', async () => {
    const s = await fresh('extend', {ackWaitMs: 1000})
    await broker.enqueue(s, [{payload: 'slow'}])
    const [lease] = await take(broker, s, 1, 3000)
    await sleep(2200)
    expect((await conn.jsm.consumers.info(s, 'worker')).num_redelivered).toBe(0)
    await lease!.extend!(2000)
    await sleep(1500)
    expect((await conn.jsm.consumers.info(s, 'worker')).num_redelivered).toBe(0)
    await lease!.ack()
  }, 15_000)

  it('limits retention: acked messages stay in the stream but leave the consumer\'s counts', async () => {
    const s = await fresh('limits', {retention: RetentionPolicy.Limits})
    await broker.enqueue(s, [{payload: 'a'}, {payload: 'b'}])
    const leases = await take(broker, s, 2)
    for (const l of leases) await l.ack()
    await sleep(100)
    const stats = await broker.stats(s)
    expect(stats.counts).toMatchObject({waiting: 0, inflight: 0})
    expect(stats.details).toMatchObject({retention: 'limits', messages: 2})
    expect(await broker.peek(s, {limit: 5})).toEqual([])
  })

  it('interest retention with two consumers: one queue per consumer; the bare stream asks which', async () => {
    const s = await fresh('interest', {retention: RetentionPolicy.Interest, consumer: 'a'})
    await conn.jsm.consumers.add(s, {durable_name: 'b', ack_policy: 'explicit' as never})
    await broker.enqueue(s, [{payload: 'fan'}])
    const names = (await broker.listQueues()).map((q) => q.name)
    expect(names).toEqual(expect.arrayContaining([`${s}/a`, `${s}/b`]))
    await expect(broker.stats(s)).rejects.toMatchObject({exitCode: 2, message: expect.stringContaining(`${s}/a, ${s}/b`)})
    const [la] = await take(broker, `${s}/a`, 1)
    await la!.ack()
    expect((await broker.stats(`${s}/a`)).counts.waiting).toBe(0)
    expect((await broker.stats(`${s}/b`)).counts.waiting).toBe(1)
  })

  it('a stream without a consumer shows its messages as waiting and says so', async () => {
    const s = await fresh('noconsumer', {consumer: false})
    await js.publish(s, 'x')
    const stats = await broker.stats(s)
    expect(stats.counts.waiting).toBe(1)
    expect(String(stats.details?.note)).toMatch(/no durable pull consumer/)
    expect((await broker.peek(s, {limit: 5})).map((m) => m.payload.toString())).toEqual(['x'])
    // consuming makes the durable pull consumer "queuectl"
    const [lease] = await take(broker, s, 1)
    await lease!.ack()
    expect((await conn.jsm.consumers.info(s, 'queuectl')).config.ack_policy).toBe('explicit')
    expect((await broker.stats(s)).details).toMatchObject({consumer: 'queuectl'})
  })

  it('createQueue makes a work-queue stream and its consumer; deleteQueue removes them', async () => {
    const s = uniqueStream('created')
    made.push(s)
    await broker.createQueue!(s)
    const info = await conn.jsm.streams.info(s)
    expect(info.config).toMatchObject({retention: 'workqueue', subjects: [s]})
    await broker.enqueue(s, [{payload: 'hi'}])
    const [l] = await take(broker, s, 1)
    await l!.ack()
    await broker.deleteQueue!(s)
    await expect(broker.stats(s)).rejects.toMatchObject({exitCode: 4})
  })
})
