// sendInBatches keeps several batches in flight only where the adapter says its writes are out in
// order (EnqueueOptions.onWritten), and when one fails counts exactly what was confirmed, reads no
// further, and names what was not sent.
import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import type {Broker, EnqueueOptions, OutgoingMessage} from '../../src/broker/contract.js'
import {EnqueueError, UsageError} from '../../src/kernel/errors.js'
import {BATCHES_IN_FLIGHT, sendInBatches} from '../../src/services/enqueue.js'
import {importMessages} from '../../src/services/ops/import.js'

interface Script {
  /** Calls onWritten (as an adapter keeping order does). */
  pipelines: boolean
  /** What the nth call (0-based) does instead of succeeding. */
  fail?: (call: number, batch: OutgoingMessage[]) => Error | undefined
  /** How long the nth call takes to confirm. */
  ms?: (call: number) => number
  /** What the nth call waits for before it confirms (given how many calls have confirmed so far). */
  until?: (call: number, confirmed: () => number) => Promise<void>
}

/** A broker whose enqueue records the order of writes and how many calls were in flight at once. */
function scripted(script: Script) {
  const stored: string[] = []
  let calls = 0
  let inFlight = 0
  let maxInFlight = 0
  let confirmed = 0
  const broker = {
    transport: 'fake',
    displayUrl: 'fake://',
    async enqueue(_queue: string, batch: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
      const call = calls++
      inFlight++
      maxInFlight = Math.max(maxInFlight, inFlight)
      try {
        const error = script.fail?.(call, batch)
        if (!error) for (const m of batch) stored.push(String(m.payload))
        if (script.pipelines) options?.onWritten?.()
        await new Promise((resolve) => setTimeout(resolve, script.ms?.(call) ?? 5))
        await script.until?.(call, () => confirmed)
        confirmed++
        if (error) throw error
        return batch.map((m) => `id-${String(m.payload)}`)
      } finally {
        inFlight--
      }
    },
  } as unknown as Broker
  return {broker, stored, stats: () => ({calls, maxInFlight})}
}

const messages = (n: number) => Array.from({length: n}, (_, i) => ({payload: String(i + 1)}))

/** An iterable that counts how many messages were taken from it. */
function counted(n: number) {
  let taken = 0
  function* gen() {
    for (const m of messages(n)) {
      taken++
      yield m
    }
  }
  return {iterable: gen(), taken: () => taken}
}

describe('sendInBatches in flight', () => {
  it('keeps up to BATCHES_IN_FLIGHT batches awaiting confirms where the adapter tells onWritten; ids and progress in input order', async () => {
    // later batches confirm first: the ids are still told in input order
    const f = scripted({pipelines: true, ms: (call) => 40 - call * 3})
    const told: number[] = []
    const report = await sendInBatches(f.broker, 'q', messages(1000), {batchSize: 100, onBatch: (_ids, sent) => told.push(sent)})
    expect(report.sent).toBe(1000)
    expect(report.ids).toEqual(messages(1000).map((m) => `id-${m.payload}`))
    expect(told).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    expect(f.stats().maxInFlight).toBe(BATCHES_IN_FLIGHT)
    expect(f.stored).toEqual(messages(1000).map((m) => m.payload))
  })

  it('keeps one batch in flight where the adapter never tells onWritten', async () => {
    const f = scripted({pipelines: false})
    const report = await sendInBatches(f.broker, 'q', messages(500), {batchSize: 100})
    expect(report.sent).toBe(500)
    expect(f.stats().maxInFlight).toBe(1)
  })

  it('a failed batch with later ones confirmed: the exact count, the first failure, no more input read, what was not sent', async () => {
    // the 3rd batch (messages 201–300) fails slowly, after the 4th and 5th were confirmed
    const after = async (n: number, confirmed: () => number) => {
      while (confirmed() < n) await new Promise((resolve) => setTimeout(resolve, 1))
    }
    const f = scripted({pipelines: true, fail: (call) => (call === 2 ? new Error('boom') : undefined), until: (call, confirmed) => (call === 2 ? after(4, confirmed) : Promise.resolve())})
    const input = counted(2000)
    const error = (await sendInBatches(f.broker, 'q', input.iterable, {batchSize: 100, total: 2000}).catch((e: unknown) => e)) as EnqueueError
    expect(error).toBeInstanceOf(EnqueueError)
    expect(error.exitCode).toBe(3)
    expect(error.sent).toBe(f.stored.length)
    expect(error.sent % 100).toBe(0)
    expect(error.sent).toBeGreaterThanOrEqual(400)
    expect(error.message).toMatch(new RegExp(`^${error.sent} of 2000 messages were sent to "q" before it failed: boom \\(in the batch of messages 201–300\\)`))
    // what was stored and what the message says was not sent make up the whole input, exactly once
    const last = error.sent + 100
    expect(last).toBeLessThan(2000)
    expect(error.message).toMatch(new RegExp(`NOT sent: messages 201–300, ${last + 1}–2000$`))
    expect(f.stored).toEqual([...messages(200), ...messages(last).slice(300)].map((m) => m.payload))
    // reading stopped once the failure was known (at most a batch more read than sent)
    expect(input.taken()).toBeLessThanOrEqual(last + 100)
    expect(f.stats().calls).toBe(last / 100)
  })

  it('a partly sent batch names the messages of it that were not confirmed', async () => {
    const f = scripted({
      pipelines: true,
      fail: (call) => (call === 1 ? new EnqueueError('lost', 98, 3, {pending: [40, 41]}) : undefined),
      ms: (call) => (call === 1 ? 30 : 5),
    })
    const error = (await sendInBatches(f.broker, 'q', messages(300), {batchSize: 100, total: 300}).catch((e: unknown) => e)) as EnqueueError
    expect(error.sent).toBe(100 + 98 + 100)
    expect(error.message).toMatch(/^298 of 300 messages were sent/)
    expect(error.message).toContain('NOT sent: messages 141–142')
  })

  it('a user error before anything was confirmed stays itself (exit 2), the batch in flight counted', async () => {
    const f = scripted({pipelines: true, fail: (call) => (call === 0 ? new UsageError('message at index 3 is too big — nothing was sent') : undefined)})
    await expect(sendInBatches(f.broker, 'q', messages(300), {batchSize: 100})).rejects.toMatchObject({exitCode: 2, message: /too big/})
  })

  it('import names the input lines not sent, blank lines counted', async () => {
    const f = scripted({pipelines: true, fail: (call) => (call === 1 ? new Error('boom') : undefined), ms: (call) => (call === 1 ? 40 : 5)})
    // a blank line after every 10th message: message n is on line n + floor((n - 1) / 10)
    const text = messages(60)
      .map((m, i) => JSON.stringify({payload: m.payload}) + ((i + 1) % 10 === 0 ? '\n' : ''))
      .join('\n')
    const error = (await importMessages(f.broker, 'q', () => Readable.from([text]), false, {batchSize: 10, allOrNothing: false, priority: false}).catch((e: unknown) => e)) as EnqueueError
    expect(error).toBeInstanceOf(EnqueueError)
    // the 2nd batch is messages 11–20, lines 12–21; batches 3–5 were confirmed, the 6th (51–60) too or not read
    expect(error.message).toMatch(/NOT sent: lines 12–21(, every one after line \d+)?$/)
    expect(error.sent).toBe(f.stored.length)
  })
})

describe('sendInBatches when the caller fails', () => {
  it("an onBatch that throws (writing the ids) ends the send with that error, after the batches in flight, and starts no more", async () => {
    const f = scripted({pipelines: true})
    const error = await sendInBatches(f.broker, 'q', messages(1000), {
      batchSize: 100,
      onBatch: (_ids, sent) => {
        if (sent === 200) throw new Error('EPIPE')
      },
    }).catch((e: unknown) => e)
    expect((error as Error).message).toBe('EPIPE')
    expect(f.stats().calls).toBeLessThan(10)
  })
})

describe('sendInBatches without ids', () => {
  /** A broker that returns no ids when told ids: false, as a Redis list does, recording what it was told. */
  function idless() {
    const told: (boolean | undefined)[] = []
    const broker = {
      transport: 'fake',
      displayUrl: 'fake://',
      async enqueue(_queue: string, batch: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
        told.push(options?.ids)
        return options?.ids === false ? [] : batch.map((m) => `id-${String(m.payload)}`)
      },
    } as unknown as Broker
    return {broker, told}
  }

  it('ids: false is passed to the adapter; confirmed batches are counted by their length, not by the ids returned', async () => {
    const f = idless()
    const seen: number[] = []
    const report = await sendInBatches(f.broker, 'q', messages(250), {batchSize: 100, ids: false, onBatch: (_ids, sent) => seen.push(sent)})
    expect(report).toEqual({ids: [], sent: 250})
    expect(seen).toEqual([100, 200, 250])
    expect(f.told).toEqual([false, false, false])
  })

  it('import asks for no ids (it only counts) and counts every message', async () => {
    const f = idless()
    const text = messages(250).map((m) => JSON.stringify({payload: m.payload})).join('\n')
    const report = await importMessages(f.broker, 'q', () => Readable.from([text]), false, {batchSize: 100, allOrNothing: false, priority: false})
    expect(report.imported).toBe(250)
    expect(f.told.every((t) => t === false)).toBe(true)
  })

  it('enqueue (ids wanted) leaves ids to the adapter', async () => {
    const f = idless()
    const report = await sendInBatches(f.broker, 'q', messages(3), {batchSize: 100})
    expect(report.ids).toEqual(['id-1', 'id-2', 'id-3'])
    expect(f.told).toEqual([undefined])
  })
})
