// Dead letters, retry (DLQ → source), peek's visibility side effect and lease extension, on the emulator.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {openBroker} from '../../../src/adapters/registry.js'
import {adminClient, createQueueWithDlq, emulatorUrl} from './helpers.js'

const admin = adminClient()
let broker: Broker
let n = 0
const fresh = async (hint: string, options: {fifo?: boolean; maxReceiveCount?: number} = {}) =>
  (await createQueueWithDlq(admin, `${hint}-${process.pid}-${n++}${options.fifo ? '.fifo' : ''}`, options)).name
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function eventually<T>(check: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

async function take(queue: string, count: number, leaseMs?: number): Promise<Lease[]> {
  const leases: Lease[] = []
  const sub = await broker.consume(queue, (l) => leases.push(l), {prefetch: count, leaseMs})
  try {
    await eventually(async () => (leases.length >= count ? true : undefined), 10_000, `${count} leases`)
  } finally {
    await sub.close()
  }
  return leases
}

beforeAll(async () => {
  broker = await openBroker(emulatorUrl('&group=redrive'), {timeoutMs: 5000})
})
afterAll(async () => {
  await broker?.close()
  admin.destroy()
})

describe('dead letters', () => {
  it('stats name the DLQ and count its messages as dead', async () => {
    const q = await fresh('dlqstats', {maxReceiveCount: 7})
    const stats = await broker.stats(q)
    expect(stats.details).toMatchObject({deadLetterQueue: `${q}-dlq`, maxReceiveCount: 7, type: 'standard'})
    expect(stats.counts.dead).toBe(0)
  })

  it('retry moves dead letters back with their headers and without the error (receive → send → delete)', async () => {
    const q = await fresh('retry')
    await broker.enqueue(q, [1, 2, 3].map((i) => ({payload: `r${i}`, name: 'job', headers: {trace: `t${i}`}})))
    for (const lease of await take(q, 3)) await lease.deadLetter('boom')
    await eventually(async () => ((await broker.stats(q)).counts.dead === 3 ? true : undefined), 10_000, '3 dead')
    const moved = await broker.retry(q, {})
    expect(moved).toBe(3)
    const stats = await broker.stats(q)
    expect(stats.counts).toMatchObject({waiting: 3, dead: 0})
    const back = await take(q, 3)
    expect(back.map((l) => l.message.payload.toString()).sort()).toEqual(['r1', 'r2', 'r3'])
    for (const l of back) {
      expect(l.message.name).toBe('job')
      expect(l.message.headers.trace).toMatch(/^t\d$/)
      expect(l.message.lastError).toBeUndefined()
      await l.ack()
    }
  })

  it('retry with ids moves only those, and a limit stops early', async () => {
    const q = await fresh('retryids')
    await broker.enqueue(q, Array.from({length: 6}, (_, i) => ({payload: `d${i}`})))
    for (const lease of await take(q, 6)) await lease.deadLetter('nope')
    const dead = await eventually(async () => {
      const list = await broker.peek(q, {limit: 10, state: 'dead'})
      return list.length === 6 ? list : undefined
    }, 10_000, '6 dead to peek')
    const pick = dead.slice(0, 2).map((m) => m.id)
    expect(await broker.retry(q, {ids: pick})).toBe(2)
    expect(await broker.retry(q, {limit: 1})).toBe(1)
    const stats = await broker.stats(q)
    expect(stats.counts).toMatchObject({waiting: 3, dead: 3})
  })

  it('FIFO dead letters keep their group and come back to it', async () => {
    const q = await fresh('fifodead', {fifo: true})
    await broker.enqueue(q, [{payload: 'f1', groupId: 'orders-1'}])
    const [lease] = await take(q, 1)
    await lease!.deadLetter('bad order')
    const [dead] = await eventually(async () => {
      const list = await broker.peek(q, {limit: 1, state: 'dead'})
      return list.length === 1 ? list : undefined
    }, 10_000, 'the dead letter')
    expect(dead!.lastError).toBe('bad order')
    expect((dead!.raw as {Attributes?: Record<string, string>}).Attributes?.MessageGroupId).toBe('orders-1')
    expect(await broker.retry(q, {})).toBe(1)
    const [again] = await take(q, 1)
    expect((again!.message.raw as {Attributes?: Record<string, string>}).Attributes?.MessageGroupId).toBe('orders-1')
    await again!.ack()
  })

  it('messages over maxReceiveCount land in the DLQ by SQS itself and count as dead', async () => {
    const q = await fresh('maxrecv', {maxReceiveCount: 1})
    await broker.enqueue(q, [{payload: 'poison'}])
    const [first] = await take(q, 1)
    await first!.nack()
    // the next receive exceeds maxReceiveCount: SQS moves it instead of delivering it
    const leases: Lease[] = []
    const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 1})
    await eventually(async () => ((await broker.stats(q)).counts.dead === 1 ? true : undefined), 10_000, 'SQS redrive')
    await sub.close()
    expect(leases).toHaveLength(0)
  })

  it('a queue without a DLQ: deadLetter and retry refuse with exit 4 and the fix', async () => {
    const q = `nodlq-${process.pid}-${n++}`
    await broker.createQueue(q)
    await broker.enqueue(q, [{payload: 'x'}])
    const [lease] = await take(q, 1)
    await expect(lease!.deadLetter('why')).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/RedrivePolicy/)})
    // the refused dead-letter did not settle the lease: it can still be nacked
    await lease!.nack()
    const [again] = await take(q, 1)
    expect(again!.message.attempts).toBe(2)
    await again!.ack()
    await expect(broker.retry(q, {})).rejects.toMatchObject({exitCode: 4})
    await broker.deleteQueue(q)
  })
})

describe('visibility', () => {
  it('peek (opted in on a queue with a redrive policy) hands messages back at once, and says so by the receive count', async () => {
    const q = await fresh('peek')
    await broker.enqueue(q, [{payload: 'seen'}])
    const [peeked] = await broker.peek(q, {limit: 5, consumeReceives: true})
    expect(peeked!.attempts).toBe(0)
    expect((await broker.stats(q)).counts).toMatchObject({waiting: 1, inflight: 0})
    const [lease] = await take(q, 1)
    expect(lease!.message.attempts).toBe(2) // SQS counted the peek as a receive
    await lease!.ack()
  })

  it('peek of in-flight or delayed messages is refused (exit 4)', async () => {
    const q = await fresh('peekstate')
    await expect(broker.peek(q, {limit: 1, state: 'inflight'})).rejects.toMatchObject({exitCode: 4})
  })

  it('extend keeps a slow handler lease past its first expiry', async () => {
    const q = await fresh('extend')
    await broker.enqueue(q, [{payload: 'slow'}])
    const [lease] = await take(q, 1, 1000)
    await lease!.extend(6000)
    await sleep(2500)
    expect((await broker.stats(q)).counts).toMatchObject({waiting: 0, inflight: 1})
    await lease!.ack()
  })

  it('nack with a delay holds the message back that long', async () => {
    const q = await fresh('nackdelay')
    await broker.enqueue(q, [{payload: 'later'}])
    const [lease] = await take(q, 1)
    await lease!.nack({delayMs: 3000})
    await sleep(1000)
    expect((await broker.stats(q)).counts).toMatchObject({waiting: 0, inflight: 1})
    const [again] = await take(q, 1)
    expect(again!.message.payload.toString()).toBe('later')
    await again!.ack()
  })

  it('purge of waiting spares in-flight messages; purge of dead empties the DLQ', async () => {
    const q = await fresh('purgeinflight')
    await broker.enqueue(q, [{payload: 'a'}, {payload: 'b'}, {payload: 'c'}])
    const [held] = await take(q, 1)
    expect(await broker.purge(q)).toBe(2)
    expect((await broker.stats(q)).counts).toMatchObject({waiting: 0, inflight: 1})
    await held!.deadLetter('x')
    await eventually(async () => ((await broker.stats(q)).counts.dead === 1 ? true : undefined), 10_000, '1 dead')
    expect(await broker.purge(q, 'dead')).toBe(1)
    expect((await broker.stats(q)).counts.dead).toBe(0)
  })
})

describe('per-queue capabilities', () => {
  it('a FIFO queue declares no delay; each queue its own size limit', async () => {
    const std = await fresh('capsstd')
    const fifo = await fresh('capsfifo', {fifo: true})
    expect((await broker.capabilitiesOf(std)).delay).toEqual({maxMs: 900_000})
    expect(await broker.capabilitiesOf(fifo)).toMatchObject({delay: false, dedup: true, groups: true, maxPayloadBytes: 1_048_576})
  })

  it('dead-letters only a queue with a redrive policy (the runtime then keeps, not drops, what runs out of attempts)', async () => {
    const withDlq = await fresh('capsdlq')
    const plain = `capsplain-${process.pid}-${n++}`
    await broker.createQueue(plain)
    expect((await broker.capabilitiesOf(withDlq)).deadLetter).toBe('queue')
    expect((await broker.capabilitiesOf(plain)).deadLetter).toBe(false)
    await broker.deleteQueue(plain)
  })
})
