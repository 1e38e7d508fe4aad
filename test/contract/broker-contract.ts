// ONE suite, run against every adapter (unstorage/keyv style). A capability the adapter lacks is
// skipped by its declaration, with the reason in the test name; nothing is skipped silently.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Capabilities, Lease, Message, OutgoingMessage} from '../../src/broker/contract.js'

export interface ContractTarget {
  /** A connected broker. Called once per suite. */
  open(): Promise<Broker>
  /** A fresh, empty queue name that exists (created if the transport needs it). */
  freshQueue(broker: Broker, hint: string): Promise<string>
  /** Removes a queue made by freshQueue (optional). */
  dropQueue?(broker: Broker, queue: string): Promise<void>
  /** Lease length to ask for in the expiry test (ms). Default 300. */
  shortLeaseMs?: number
  /** Largest payload to round-trip (bytes). Default 1 MiB or the declared maxPayloadBytes, whichever is less. */
  largePayloadBytes?: number
  /** Time allowed for cross-process effects (ms). */
  settleMs?: number
  /** Per-test timeout (ms). */
  timeoutMs?: number
  /**
   * A job library's format: every message needs a task `name`; where the payload becomes the
   * job's JSON arguments rather than bytes kept as sent (Celery, Sidekiq), `argsOf` reads those
   * arguments back from a message, and the suite sends each text as a one-argument call.
   */
  job?: {name: string; argsOf?: (m: Message) => unknown[]}
  /**
   * What `capabilitiesOf()` (no queue) declares, where the broker's capabilities are wider than
   * the fresh queues' the suite is told about (SQS: a connection that may also hold FIFO queues
   * deduplicates; its standard queues do not). Default: the same.
   */
  brokerCapabilities?: Capabilities
  /** Declared capabilities this test environment cannot show, with why (an emulator's gap): their tests are skipped with the reason in the name. */
  unshown?: {groups?: string}
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits until `check` returns a value that is not undefined, or fails after `ms`. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, ms: number, what: string): Promise<T> {
  const until = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error(`timed out after ${ms}ms waiting for ${what}`)
    await sleep(20)
  }
}

/** Consumes `n` leases from a queue (not settled), then stops the subscription. */
async function take(broker: Broker, queue: string, n: number, ms = 5000, leaseMs?: number): Promise<Lease[]> {
  const leases: Lease[] = []
  const sub = await broker.consume(queue, (lease) => leases.push(lease), {prefetch: n, leaseMs})
  try {
    await eventually(() => (leases.length >= n ? true : undefined), ms, `${n} deliveries from ${queue}`)
  } finally {
    await sub.close()
  }
  return leases
}

/** Consumes and acks everything until `n` have arrived; returns the messages in arrival order. */
async function drain(broker: Broker, queue: string, n: number, ms = 10_000, prefetch = 50): Promise<Message[]> {
  const got: Message[] = []
  const sub = await broker.consume(
    queue,
    (lease) => {
      got.push(lease.message)
      void lease.ack()
    },
    {prefetch},
  )
  try {
    await eventually(() => (got.length >= n ? true : undefined), ms, `${n} messages from ${queue}`)
  } finally {
    await sub.close()
  }
  return got
}

const text = (m: Message) => m.payload.toString('utf8')

export function describeBrokerContract(name: string, target: ContractTarget, caps: Capabilities): void {
  const argsOf = target.job?.argsOf
  // capabilities.payload 'json': each text goes as a JSON string, read back from the body; names and headers are refused
  const jsonData = caps.payload === 'json'
  /** A message the target's format takes: named where it needs a name, the text as one JSON argument where payloads are arguments. */
  const out = (m: OutgoingMessage): OutgoingMessage => {
    const named = target.job && m.name === undefined ? {...m, name: target.job.name} : m
    if (jsonData && typeof m.payload === 'string') return {...named, payload: JSON.stringify(m.payload)}
    return argsOf && typeof m.payload === 'string' ? {...named, payload: JSON.stringify([m.payload])} : named
  }
  const outs = (ms: OutgoingMessage[]) => ms.map(out)
  /** The text a message was sent with (see `out`). */
  const sent = (m: Message) => (argsOf ? String(argsOf(m)[0]) : jsonData ? String(m.body) : text(m))
  /** A name and headers, where the target keeps them. */
  const tagged: {name?: string; headers?: Record<string, string>} = jsonData ? {} : {name: 'first', headers: {trace: 'abc'}}

  describe(`broker contract: ${name}`, () => {
    let broker: Broker
    const made: string[] = []
    const timeout = target.timeoutMs ?? 20_000
    const fresh = async (hint: string) => {
      const q = await target.freshQueue(broker, hint)
      made.push(q)
      return q
    }

    beforeAll(async () => {
      broker = await target.open()
    }, 30_000)

    afterAll(async () => {
      if (!broker) return
      if (target.dropQueue) for (const q of made) await target.dropQueue(broker, q).catch(() => {})
      await broker.close()
    }, 30_000)

    it('declares the capabilities this suite was told about', async () => {
      expect(await broker.capabilitiesOf()).toEqual(target.brokerCapabilities ?? caps)
      expect(['exact', 'requeue', 'visibility', 'none']).toContain(caps.peek)
      expect(caps.states).toContain('waiting')
      expect(caps.purgeStates.every((s) => caps.states.includes(s))).toBe(true)
      expect(broker.displayUrl).not.toMatch(/:(?!\*\*\*@)[^:/@]+@/) // never a password: user:***@ at most (issue 23: one form)
    })

    it.skipIf(!caps.enqueue)('enqueue → stats → peek keeps the name, headers and payload [needs capabilities.enqueue]', async () => {
      const q = await fresh('stored')
      const ids = await broker.enqueue(q, outs([{payload: '{"n":1}', ...tagged}]))
      expect(ids).toHaveLength(1)
      expect(typeof ids[0]).toBe('string')
      await eventually(async () => ((await broker.stats(q)).counts.waiting === 1 ? true : undefined), 10_000, '1 waiting')
      if (caps.peek !== 'none') {
        const peeked = await broker.peek(q, {limit: 10})
        expect(peeked).toHaveLength(1)
        expect(peeked[0]!.id).toBe(ids[0])
        expect(sent(peeked[0]!)).toBe('{"n":1}')
        expect(peeked[0]!.name).toBe(tagged.name)
        expect(peeked[0]!.headers.trace).toBe(tagged.headers?.trace)
        expect(peeked[0]!.state).toBe('waiting')
      }
    }, timeout)

    it.skipIf(!jsonData || !caps.enqueue)("refuses a name and headers the job data has no place for, storing nothing [needs capabilities.payload 'json', capabilities.enqueue]", async () => {
      const q = await fresh('refused')
      await expect(broker.enqueue(q, outs([{payload: '{}'}, {payload: '{}', headers: {trace: 'abc'}}]))).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining('"trace"')})
      await expect(broker.enqueue(q, outs([{payload: '{}', name: 'first'}]))).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining('"first"')})
      expect((await broker.stats(q)).counts.waiting).toBe(0)
    }, timeout)

    it.skipIf(caps.enqueue)('enqueue refuses with NotSupportedError (exit 4) and the advice [declared: capabilities.enqueue false]', async () => {
      const q = await fresh('noenqueue')
      await expect(broker.enqueue(q, outs([{payload: 'x'}]))).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining(caps.advice?.enqueue ?? ' — ')})
    }, timeout)

    it.skipIf(caps.consume)('consume refuses with NotSupportedError (exit 4) and the advice [declared: capabilities.consume false]', async () => {
      const q = await fresh('noconsume')
      await expect(broker.consume(q, () => {}, {prefetch: 1})).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining(caps.advice?.consume ?? ' — ')})
    }, timeout)

    it.skipIf(!caps.consume)('enqueue → peek → consume → ack round trip [needs capabilities.consume]', async () => {
      const q = await fresh('roundtrip')
      const ids = await broker.enqueue(q, outs([{payload: '{"n":1}', ...tagged}]))
      expect(ids).toHaveLength(1)
      expect(typeof ids[0]).toBe('string')

      const stats = await broker.stats(q)
      expect(stats.counts.waiting).toBe(1)

      if (caps.peek !== 'none') {
        const peeked = await broker.peek(q, {limit: 10})
        expect(peeked).toHaveLength(1)
        expect(sent(peeked[0]!)).toBe('{"n":1}')
        expect(peeked[0]!.name).toBe(tagged.name)
        expect(peeked[0]!.headers.trace).toBe(tagged.headers?.trace)
        // peeking consumed nothing
        await eventually(async () => ((await broker.stats(q)).counts.waiting === 1 ? true : undefined), 5000, 'peeked message back')
      }

      const [lease] = await take(broker, q, 1)
      expect(sent(lease!.message)).toBe('{"n":1}')
      expect(lease!.message.name).toBe(tagged.name)
      expect(lease!.message.headers.trace).toBe(tagged.headers?.trace)
      expect(lease!.message.attempts).toBeGreaterThanOrEqual(1)
      await lease!.ack()
      await eventually(async () => {
        const s = await broker.stats(q)
        return s.counts.waiting === 0 && (s.counts.inflight ?? 0) === 0 ? true : undefined
      }, 5000, 'queue empty after ack')
    }, timeout)

    it.skipIf(!caps.consume)('nack requeues the message for another delivery [needs capabilities.consume]', async () => {
      const q = await fresh('nack')
      await broker.enqueue(q, outs([{payload: 'again'}]))
      const [first] = await take(broker, q, 1)
      await first!.nack()
      const [second] = await take(broker, q, 1)
      expect(sent(second!.message)).toBe('again')
      // a plain hand-back need not count: RabbitMQ counts failed attempts only (its requeue marks look like a peek's)
      expect(second!.message.attempts).toBeGreaterThanOrEqual(1)
      await second!.ack()
    }, timeout)

    it.skipIf(!caps.consume)('settling a lease twice is harmless [needs capabilities.consume]', async () => {
      const q = await fresh('twice')
      await broker.enqueue(q, outs([{payload: 'once'}, {payload: 'other'}]))
      const [lease] = await take(broker, q, 1)
      await lease!.ack()
      await lease!.ack()
      await lease!.nack()
      const rest = await drain(broker, q, 1)
      expect(rest.map(sent)).toEqual(['other'])
    }, timeout)

    describe('lease expiry', () => {
      it.skipIf(!caps.leaseExpiry || !caps.consume)('an unsettled lease is redelivered after it expires [needs capabilities.leaseExpiry, capabilities.consume]', async () => {
        const q = await fresh('lease')
        const leaseMs = target.shortLeaseMs ?? 300
        await broker.enqueue(q, outs([{payload: 'slow'}]))
        const [abandoned] = await take(broker, q, 1, 5000, leaseMs)
        expect(sent(abandoned!.message)).toBe('slow')
        // never settled: after the lease it must come back
        const [again] = await take(broker, q, 1, leaseMs * 10 + 10_000, leaseMs)
        expect(sent(again!.message)).toBe('slow')
        await again!.ack()
      }, timeout + 20_000)
    })

    it.skipIf(!caps.delay || !caps.consume)('delay holds a message back until it is due [needs capabilities.delay, capabilities.consume]', async () => {
      const q = await fresh('delay')
      const delayMs = 1500
      const sentAt = Date.now()
      await broker.enqueue(q, outs([{payload: 'later', delayMs}, {payload: 'now'}]))
      const got: {m: Message; at: number}[] = []
      const sub = await broker.consume(q, (lease) => {
        got.push({m: lease.message, at: Date.now()})
        void lease.ack()
      }, {prefetch: 10})
      try {
        await eventually(() => (got.length >= 2 ? true : undefined), delayMs + 15_000, 'both messages')
      } finally {
        await sub.close()
      }
      expect(got.map((g) => sent(g.m))).toEqual(['now', 'later'])
      expect(got[1]!.at - sentAt).toBeGreaterThanOrEqual(delayMs - 50)
    }, timeout + 20_000)

    it.skipIf(!caps.delay || !caps.states.includes('delayed') || !caps.enqueue)("a delayed message counts as delayed, not waiting, until it is due [needs capabilities.delay, 'delayed' in capabilities.states, capabilities.enqueue]", async () => {
      const q = await fresh('delayed-count')
      await broker.enqueue(q, outs([{payload: 'not yet', delayMs: 60_000}]))
      const stats = await eventually(async () => {
        const s = await broker.stats(q)
        return s.counts.delayed === 1 ? s : undefined
      }, 10_000, '1 delayed')
      expect(stats.counts.waiting).toBe(0)
    }, timeout)

    it.skipIf(!caps.priority || !caps.consume)('serves higher priority first, FIFO within a priority [needs capabilities.priority, capabilities.consume]', async () => {
      const range = caps.priority as {min: number; max: number}
      const q = await fresh('priority')
      const lo = range.min
      const hi = Math.min(range.max, range.min + 5)
      await broker.enqueue(q, outs([
        {payload: 'lo-1', priority: lo},
        {payload: 'hi-1', priority: hi},
        {payload: 'lo-2', priority: lo},
        {payload: 'hi-2', priority: hi},
      ]))
      await sleep(target.settleMs ?? 0)
      const got = await drain(broker, q, 4, 10_000, 1)
      expect(got.map(sent)).toEqual(['hi-1', 'hi-2', 'lo-1', 'lo-2'])
    }, timeout)

    it.skipIf(!caps.purgeStates.includes('waiting') || !caps.enqueue)("purge empties the waiting messages and says how many [needs 'waiting' in capabilities.purgeStates, capabilities.enqueue]", async () => {
      const q = await fresh('purge')
      await broker.enqueue(q, outs(Array.from({length: 25}, (_, i) => ({payload: `p${i}`}))))
      await eventually(async () => ((await broker.stats(q)).counts.waiting === 25 ? true : undefined), 10_000, '25 waiting')
      const removed = await broker.purge(q)
      expect(removed).toBe(25)
      expect((await broker.stats(q)).counts.waiting).toBe(0)
    }, timeout)

    it.skipIf(caps.purgeStates.includes('waiting'))("purge refuses with NotSupportedError (exit 4) [declared: 'waiting' not in capabilities.purgeStates]", async () => {
      const q = await fresh('nopurge')
      await expect(broker.purge(q, 'waiting')).rejects.toMatchObject({exitCode: 4})
    }, timeout)

    it.skipIf(!caps.remove?.states.includes('waiting') || !caps.enqueue)("remove deletes exactly the named waiting jobs [needs 'waiting' in capabilities.remove, enqueue]", async () => {
      const q = await fresh('remove')
      await broker.enqueue(q, outs([{payload: 'a'}, {payload: 'b'}, {payload: 'c'}]))
      await sleep(target.settleMs ?? 0)
      const peeked = await broker.peek(q, {limit: 10, state: 'waiting'})
      const gone = peeked.find((m) => sent(m) === 'b')!
      expect(await broker.remove(q, [gone.id], 'waiting')).toBe(1)
      expect((await broker.peek(q, {limit: 10, state: 'waiting'})).map((m) => sent(m)).sort()).toEqual(['a', 'c'])
      // an id the state does not hold is skipped
      expect(await broker.remove(q, [gone.id], 'waiting')).toBe(0)
    }, timeout)

    it.skipIf(!caps.remove?.states.includes('delayed') || !caps.delay || !caps.enqueue)("remove deletes exactly the named delayed jobs [needs 'delayed' in capabilities.remove, delay, enqueue]", async () => {
      const q = await fresh('remove-delayed')
      await broker.enqueue(q, outs([{payload: 'x', delayMs: 3_600_000}, {payload: 'y', delayMs: 3_600_000}]))
      await sleep(target.settleMs ?? 0)
      const peeked = await broker.peek(q, {limit: 10, state: 'delayed'})
      const gone = peeked.find((m) => sent(m) === 'x')!
      expect(await broker.remove(q, [gone.id], 'delayed')).toBe(1)
      expect((await broker.peek(q, {limit: 10, state: 'delayed'})).map((m) => sent(m))).toEqual(['y'])
    }, timeout)

    it.skipIf(Boolean(caps.remove))('remove refuses with NotSupportedError (exit 4) [declared: no capabilities.remove]', async () => {
      const q = await fresh('noremove')
      await expect(broker.remove(q, ['some-id'], 'waiting')).rejects.toMatchObject({exitCode: 4})
    }, timeout)

    it.skipIf(!caps.consume || !caps.states.includes('inflight'))("counts messages by state [needs capabilities.consume, 'inflight' in capabilities.states]", async () => {
      const q = await fresh('counts')
      await broker.enqueue(q, outs([{payload: 'a'}, {payload: 'b'}, {payload: 'c'}]))
      if (caps.delay) await broker.enqueue(q, outs([{payload: 'd', delayMs: 60_000}]))
      const [held] = await take(broker, q, 1)
      const stats = await eventually(async () => {
        const s = await broker.stats(q)
        return s.counts.waiting === 2 && s.counts.inflight === 1 ? s : undefined
      }, 10_000, '2 waiting and 1 in flight')
      if (caps.delay) expect(stats.counts.delayed).toBe(1)
      if (caps.deadLetter) {
        await held!.deadLetter('broken on purpose')
        const after = await eventually(async () => {
          const s = await broker.stats(q)
          return s.counts.dead === 1 ? s : undefined
        }, 10_000, '1 dead')
        expect(after.counts.inflight ?? 0).toBe(0)
        if (caps.peek !== 'none' && caps.states.includes('dead')) {
          const dead = await broker.peek(q, {limit: 5, state: 'dead'})
          expect(dead).toHaveLength(1)
          expect(dead[0]!.lastError).toContain('broken on purpose')
        }
      } else {
        await held!.ack()
      }
    }, timeout)

    it.skipIf(!caps.enqueue)('takes a batch of 1,000 in one call and stores each: 1,000 distinct ids, 1,000 waiting [needs capabilities.enqueue]', async () => {
      const q = await fresh('stored-batch')
      const ids = await broker.enqueue(q, outs(Array.from({length: 1000}, (_, i) => ({payload: `s${i}`}))))
      expect(ids).toHaveLength(1000)
      expect(new Set(ids).size).toBe(1000)
      await eventually(async () => ((await broker.stats(q)).counts.waiting === 1000 ? true : undefined), 15_000, '1,000 waiting')
      if (caps.peek === 'exact') {
        const peeked = await broker.peek(q, {limit: 5})
        expect(peeked.map(sent)).toEqual(['s0', 's1', 's2', 's3', 's4'])
      }
    }, timeout + 15_000)

    it.skipIf(!caps.consume)('takes a batch of 1,000 in one call and delivers each exactly once [needs capabilities.consume]', async () => {
      const q = await fresh('batch')
      const batch: OutgoingMessage[] = Array.from({length: 1000}, (_, i) => ({payload: JSON.stringify({seq: i})}))
      const ids = await broker.enqueue(q, outs(batch))
      expect(ids).toHaveLength(1000)
      expect(new Set(ids).size).toBe(1000)
      const got = await drain(broker, q, 1000, 60_000 + timeout, 100)
      const seqs = got.map((m) => (JSON.parse(sent(m)) as {seq: number}).seq).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({length: 1000}, (_, i) => i))
    }, 2 * timeout + 60_000)

    it.skipIf(!caps.consume)('enqueue with ids: false stores every message; its ids are all there or none [needs capabilities.consume]', async () => {
      const q = await fresh('noids')
      const ids = await broker.enqueue(q, outs(Array.from({length: 50}, (_, i) => ({payload: `n${i}`}))), {ids: false})
      expect([0, 50]).toContain(ids.length)
      const got = await drain(broker, q, 50, 30_000 + timeout, 50)
      expect(got.map(sent).sort()).toEqual(Array.from({length: 50}, (_, i) => `n${i}`).sort())
    }, 2 * timeout + 30_000)

    // the declared maxPayloadBytes bounds the large payload: a smaller broker limit is a declaration, not a target's number
    const largeSize = target.largePayloadBytes ?? Math.min(1024 * 1024, caps.maxPayloadBytes ?? Infinity)
    it.skipIf(!caps.consume || Boolean(argsOf) || jsonData)(`keeps payload bytes exactly: binary, unicode and large (${largeSize} bytes) [needs capabilities.consume, payloads kept as bytes: no job.argsOf, no capabilities.payload 'json']`, async () => {
      const q = await fresh('bytes')
      const binary = Buffer.from(Array.from({length: 256}, (_, i) => i))
      const unicode = Buffer.from('héllo wörld — 日本語 🚀 \u0000 end', 'utf8')
      const size = largeSize
      const large = Buffer.alloc(size)
      for (let i = 0; i < size; i++) large[i] = (i * 31 + 7) & 0xff
      await broker.enqueue(q, [{payload: binary}, {payload: unicode}, {payload: large}])
      const got = await drain(broker, q, 3, 30_000, 1)
      const byLength = new Map(got.map((m) => [m.payload.length, m.payload]))
      expect(byLength.get(binary.length)?.equals(binary)).toBe(true)
      expect(byLength.get(unicode.length)?.equals(unicode)).toBe(true)
      expect(byLength.get(large.length)?.equals(large)).toBe(true)
    }, timeout + 30_000)

    it.skipIf(!caps.consume)('two concurrent consumers never hold the same message at once [needs capabilities.consume]', async () => {
      const q = await fresh('concurrent')
      const n = 200
      await broker.enqueue(q, outs(Array.from({length: n}, (_, i) => ({payload: `c${i}`}))))
      const held = new Set<string>()
      const seen: string[] = []
      let overlaps = 0
      const handler = (lease: Lease) => {
        const key = sent(lease.message)
        if (held.has(key)) overlaps++
        held.add(key)
        seen.push(key)
        setTimeout(() => {
          held.delete(key)
          void lease.ack()
        }, 2)
      }
      const a = await broker.consume(q, handler, {prefetch: 10})
      const b = await broker.consume(q, handler, {prefetch: 10})
      try {
        await eventually(() => (new Set(seen).size >= n ? true : undefined), 30_000, `${n} distinct messages`)
      } finally {
        await Promise.all([a.close(), b.close()])
      }
      expect(overlaps).toBe(0)
      expect(new Set(seen).size).toBe(n)
    }, timeout + 30_000)

    it('stats of a queue that does not exist is a NotFoundError (exit 4)', async () => {
      await expect(broker.stats(`no-such-queue-${Date.now()}`)).rejects.toMatchObject({exitCode: 4})
    }, timeout)

    it.skipIf(!caps.listQueues)('lists the queues it holds [needs capabilities.listQueues]', async () => {
      const q = await fresh('listed')
      // freshQueue made it; a message too where we can send one (an empty Redis list does not exist)
      if (caps.enqueue) await broker.enqueue(q, outs([{payload: 'x'}]))
      const names = await eventually(async () => {
        const list = await broker.listQueues()
        return list.some((r) => r.name === q) ? list : undefined
      }, 15_000, `${q} in listQueues`)
      expect(names.find((r) => r.name === q)?.kind).toBeTruthy()
    }, timeout + 15_000)

    describe('capabilitiesOf', () => {
      it('capabilitiesOf() without a queue resolves with what the suite was told', async () => {
        expect(await broker.capabilitiesOf()).toEqual(target.brokerCapabilities ?? caps)
      }, timeout)

      it("capabilitiesOf(queue) of a fresh queue agrees with what the suite was told (a queue may know its own priority range and dead-letter queue)", async () => {
        const q = await fresh('caps')
        const own = await broker.capabilitiesOf(q)
        const same = ['listQueues', 'peek', 'delay', 'leaseExpiry', 'rates', 'dedup', 'groups', 'inProcess', 'retry', 'pause', 'create', 'delete', 'extend', 'publish', 'maxPayloadBytes'] as const
        for (const key of same) expect(own[key], key).toEqual(caps[key])
        expect(Boolean(own.priority)).toBe(Boolean(caps.priority))
        if (own.priority && caps.priority) {
          expect(own.priority.min).toBeGreaterThanOrEqual(caps.priority.min)
          expect(own.priority.max).toBeLessThanOrEqual(caps.priority.max)
        }
        // a queue without a dead-letter route says so; one with it routes the way the broker does
        if (own.deadLetter) expect(own.deadLetter).toBe(caps.deadLetter)
        if (own.deadLetterQueue !== undefined) expect(own.deadLetter).toBe('queue')
        for (const s of own.states) expect(caps.states).toContain(s)
        for (const s of own.purgeStates) expect(own.states).toContain(s)
      }, timeout)
    })

    describe('refusals: a method whose capability is false refuses (NotSupportedError, exit 4)', () => {
      it.skipIf(Boolean(caps.retry))('retry refuses [declared: capabilities.retry false]', async () => {
        const q = await fresh('noretry')
        await expect(broker.retry(q, {state: 'dead'})).rejects.toMatchObject({exitCode: 4})
      }, timeout)

      it.skipIf(caps.pause)('pause and resume refuse [declared: capabilities.pause false]', async () => {
        const q = await fresh('nopause')
        await expect(broker.pause(q)).rejects.toMatchObject({exitCode: 4})
        await expect(broker.resume(q)).rejects.toMatchObject({exitCode: 4})
      }, timeout)

      it.skipIf(caps.create)('createQueue refuses [declared: capabilities.create false]', async () => {
        const q = await fresh('nocreate')
        await expect(broker.createQueue(`${q}-another`)).rejects.toMatchObject({exitCode: 4})
      }, timeout)

      it.skipIf(caps.delete)('deleteQueue refuses and the queue stays [declared: capabilities.delete false]', async () => {
        const q = await fresh('nodelete')
        await expect(broker.deleteQueue(q)).rejects.toMatchObject({exitCode: 4})
        await broker.stats(q)
      }, timeout)

      it.skipIf(caps.extend || !caps.consume || !caps.enqueue)('lease.extend refuses and the lease still settles [declared: capabilities.extend false; needs capabilities.consume, enqueue]', async () => {
        const q = await fresh('noextend')
        await broker.enqueue(q, outs([{payload: 'held'}]))
        const [lease] = await take(broker, q, 1)
        await expect(lease!.extend(10_000)).rejects.toMatchObject({exitCode: 4})
        await lease!.ack()
      }, timeout)
    })

    it.skipIf(!(caps.retry && caps.retry.states.includes('dead') && caps.deadLetter === 'state') || !caps.consume)(
      "a dead-lettered message comes back to waiting with retry({state: 'dead'}) [needs capabilities.retry with 'dead', deadLetter 'state', capabilities.consume]",
      async () => {
        const q = await fresh('retry')
        await broker.enqueue(q, outs([{payload: 'revive'}]))
        const [lease] = await take(broker, q, 1)
        await lease!.deadLetter('dead on purpose')
        await eventually(async () => ((await broker.stats(q)).counts.dead === 1 ? true : undefined), 10_000, '1 dead')
        expect(await broker.retry(q, {state: 'dead'})).toBe(1)
        // back to work: waiting, or `retry` where the library marks a revived job so
        const back = await eventually(async () => {
          const s = await broker.stats(q)
          return (s.counts.waiting ?? 0) + (s.counts.retry ?? 0) === 1 && (s.counts.dead ?? 0) === 0 ? s : undefined
        }, 10_000, 'back to waiting')
        expect((back.counts.waiting ?? 0) + (back.counts.retry ?? 0)).toBe(1)
        const [again] = await take(broker, q, 1)
        expect(sent(again!.message)).toBe('revive')
        await again!.ack()
      },
      timeout,
    )

    it.skipIf(caps.deadLetter !== 'queue' || !caps.consume)("deadLetter 'queue': capabilitiesOf names the dead-letter queue, whose stats count the dead-lettered message [needs deadLetter 'queue', capabilities.consume]", async () => {
      const q = await fresh('dlq')
      const dlq = (await broker.capabilitiesOf(q)).deadLetterQueue
      expect(typeof dlq).toBe('string')
      // a dead-letter queue may be made on its first dead letter (NATS: STREAM_DLQ)
      const before = await broker.stats(dlq!).then(
        (s) => s.counts.waiting ?? 0,
        (error: Error & {exitCode?: number}) => (error.exitCode === 4 ? 0 : Promise.reject(error)),
      )
      await broker.enqueue(q, outs([{payload: 'to the dlq'}]))
      const [lease] = await take(broker, q, 1)
      await lease!.deadLetter('dead on purpose')
      await eventually(async () => ((await broker.stats(dlq!)).counts.waiting === before + 1 ? true : undefined), 20_000, `1 more waiting in ${dlq}`)
    }, timeout + 20_000)

    it.skipIf(!(caps.retry && caps.retry.states.includes('dead') && caps.deadLetter === 'queue') || !caps.consume)(
      "a message dead-lettered into its queue's dead-letter queue comes back with retry({state: 'dead'}) [needs capabilities.retry with 'dead', deadLetter 'queue', capabilities.consume]",
      async () => {
        const q = await fresh('redrive')
        const dlq = (await broker.capabilitiesOf(q)).deadLetterQueue!
        await broker.enqueue(q, outs([{payload: 'redriven'}]))
        const [lease] = await take(broker, q, 1)
        await lease!.deadLetter('dead on purpose')
        await eventually(async () => ((await broker.stats(dlq)).counts.waiting === 1 ? true : undefined), 20_000, `1 waiting in ${dlq}`)
        expect(await broker.retry(q, {state: 'dead'})).toBe(1)
        const [back] = await take(broker, q, 1, 20_000)
        expect(sent(back!.message)).toBe('redriven')
        await back!.ack()
      },
      timeout + 40_000,
    )

    describe('pause / resume', () => {
      it.skipIf(!caps.pause || !caps.enqueue)('a paused queue says so in its stats, a resumed one not [needs capabilities.pause, enqueue]', async () => {
        const q = await fresh('paused-stats')
        await broker.enqueue(q, outs([{payload: 'held back'}]))
        await broker.pause(q)
        expect((await broker.stats(q)).paused).toBe(true)
        await broker.resume(q)
        expect((await broker.stats(q)).paused).toBeFalsy()
        expect((await broker.stats(q)).counts.waiting).toBe(1)
      }, timeout)

      it.skipIf(!caps.pause || !caps.consume)('a paused queue delivers nothing; resumed, it delivers [needs capabilities.pause, capabilities.consume]', async () => {
        const q = await fresh('paused')
        await broker.enqueue(q, outs([{payload: 'after resume'}]))
        await broker.pause(q)
        const got: Lease[] = []
        const sub = await broker.consume(q, (lease) => got.push(lease), {prefetch: 1})
        try {
          await sleep(1500)
          expect(got).toHaveLength(0)
          await broker.resume(q)
          await eventually(() => (got.length >= 1 ? true : undefined), 10_000, 'delivery after resume')
          expect(sent(got[0]!.message)).toBe('after resume')
          await got[0]!.ack()
        } finally {
          await sub.close()
        }
      }, timeout)
    })

    describe('nack options', () => {
      it.skipIf(!caps.delay || !caps.consume)('nack({delayMs}) holds the message back about that long [needs capabilities.delay, capabilities.consume]', async () => {
        const q = await fresh('nack-delay')
        const delayMs = 1500
        await broker.enqueue(q, outs([{payload: 'later again'}]))
        const [first] = await take(broker, q, 1)
        const at = Date.now()
        await first!.nack({delayMs})
        const [second] = await take(broker, q, 1, delayMs + 15_000)
        expect(Date.now() - at).toBeGreaterThanOrEqual(delayMs - 100)
        expect(sent(second!.message)).toBe('later again')
        await second!.ack()
      }, timeout + 20_000)

      it.skipIf(!caps.consume)('nack({failed: true}): the next delivery counts one attempt more [needs capabilities.consume]', async () => {
        const q = await fresh('nack-failed')
        await broker.enqueue(q, outs([{payload: 'failing'}]))
        const [first] = await take(broker, q, 1)
        const attempts = first!.message.attempts
        await first!.nack({failed: true})
        const [second] = await take(broker, q, 1)
        expect(sent(second!.message)).toBe('failing')
        expect(second!.message.attempts).toBe(attempts + 1)
        await second!.ack()
      }, timeout)
    })

    it.skipIf(!caps.dedup || !caps.enqueue)('two messages with the same dedupId: one is stored [needs capabilities.dedup, enqueue]', async () => {
      const q = await fresh('dedup')
      const dedupId = `d-${Date.now()}`
      await broker.enqueue(q, outs([{payload: 'one', dedupId}]))
      await broker.enqueue(q, outs([{payload: 'two', dedupId}]))
      await sleep(target.settleMs ?? 0)
      await eventually(async () => ((await broker.stats(q)).counts.waiting === 1 ? true : undefined), 10_000, '1 waiting')
      if (caps.consume) {
        const [only] = await take(broker, q, 1)
        expect(sent(only!.message)).toBe('one')
        await only!.ack()
      }
    }, timeout)

    it.skipIf(!caps.groups || !caps.consume || Boolean(target.unshown?.groups))(`groupId is kept on the consumed message [needs capabilities.groups, capabilities.consume${target.unshown?.groups ? `; not shown here: ${target.unshown.groups}` : ''}]`, async () => {
      const q = await fresh('groups')
      await broker.enqueue(q, outs([{payload: 'grouped', groupId: 'g-contract'}]))
      const [lease] = await take(broker, q, 1)
      expect(lease!.message.groupId).toBe('g-contract')
      await lease!.ack()
    }, timeout)

    it.skipIf(!caps.extend || !caps.leaseExpiry || !caps.consume)('lease.extend keeps a lease past its expiry [needs capabilities.extend, leaseExpiry, capabilities.consume]', async () => {
      const q = await fresh('extend')
      const leaseMs = target.shortLeaseMs ?? 300
      // in groups of their own, so a FIFO queue hands out both at once
      const group = (g: string) => (caps.groups ? {groupId: g} : {})
      await broker.enqueue(q, outs([{payload: 'kept', ...group('kept')}, {payload: 'dropped', ...group('dropped')}]))
      const leases = await take(broker, q, 2, 5000, leaseMs)
      const kept = leases.find((l) => sent(l.message) === 'kept')!
      await kept.extend(60_000)
      // the lease left alone expires and comes back; the extended one does not
      const again = await take(broker, q, 1, leaseMs * 10 + 10_000, leaseMs)
      expect(again.map((l) => sent(l.message))).toEqual(['dropped'])
      await again[0]!.ack()
      await kept.ack()
    }, timeout + 20_000)

    it('close() is idempotent', async () => {
      const other = await target.open()
      await other.close()
      await other.close()
    }, timeout)
  })
}
