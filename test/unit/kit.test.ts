// The adapter kit (src/broker/kit) on its own, without a broker: the rules every adapter now
// inherits from it.
import {describe, expect, it} from 'vitest'
import type {AdapterBroker, Broker, Capabilities, Lease, LeaseHandler, Message} from '../../src/broker/contract.js'
import {chunkBySize} from '../../src/broker/kit/chunk.js'
import {boundedBroker, Watchdog} from '../../src/broker/kit/deadline.js'
import {guardBroker} from '../../src/broker/kit/guard.js'
import {onceLease, SETTLED, type SettleOps} from '../../src/broker/kit/lease.js'
import {ConnectionError, NotSupportedError} from '../../src/kernel/errors.js'
import {peekWith} from '../../src/broker/kit/peek.js'
import {startPollLoop} from '../../src/broker/kit/poll-loop.js'
import {ClosedSignal, Outage, Waker, withDeadline} from '../../src/broker/kit/subscription.js'

const message = (id = 'm1'): Message => ({id, queue: 'q', payload: Buffer.from('x'), headers: {}, attempts: 1, state: 'inflight', priority: 0, enqueuedAt: 0, availableAt: 0})

function recordingOps(log: string[], fail?: string): SettleOps {
  const op = (name: string) => async () => {
    log.push(name)
    if (name === fail) throw new Error(`${name} failed`)
  }
  return {ack: op('ack'), nack: op('nack'), deadLetter: op('deadLetter'), extend: op('extend')}
}

describe('onceLease', () => {
  it('settles once: the first of ack/nack/deadLetter wins, later calls and extend do nothing', async () => {
    const log: string[] = []
    const hooks: string[] = []
    const lease = onceLease(message(), recordingOps(log), {claimed: () => hooks.push('claimed'), finished: () => hooks.push('finished')})
    await lease.extend!(10)
    await lease.nack()
    await lease.ack()
    await lease.deadLetter('x')
    await lease.extend!(10)
    expect(log).toEqual(['extend', 'nack'])
    expect(hooks).toEqual(['claimed', 'finished'])
  })

  it('extend is the broker’s own while unsettled: a refusal reaches the caller', async () => {
    const refusing = {...recordingOps([]), extend: async () => Promise.reject(new Error('cannot extend here'))}
    await expect(onceLease(message(), refusing).extend(10)).rejects.toThrow('cannot extend here')
  })

  it('a failed settle counts, unless `unclaimed` says the message is still ours', async () => {
    const log: string[] = []
    const counted = onceLease(message(), recordingOps(log, 'ack'))
    await expect(counted.ack()).rejects.toThrow('ack failed')
    await counted.nack()
    expect(log).toEqual(['ack'])

    const again: string[] = []
    let outstanding = 1
    const reopened = onceLease(message(), recordingOps(again, 'ack'), {claimed: () => outstanding--, unclaimed: () => outstanding++})
    await expect(reopened.ack()).rejects.toThrow('ack failed')
    expect(outstanding).toBe(1)
    await reopened.nack()
    expect(again).toEqual(['ack', 'nack'])
    expect(outstanding).toBe(0)
  })
})

describe('settles done when they return (SETTLED)', () => {
  it('onceLease hands SETTLED back as it is, its hooks run at once, and a second settle does nothing', () => {
    const hooks: string[] = []
    let acks = 0
    const ops: SettleOps = {ack: () => (acks++, SETTLED), nack: async () => {}, deadLetter: async () => {}}
    const lease = onceLease(message(), ops, {claimed: () => hooks.push('claimed'), finished: () => hooks.push('finished')})
    expect(lease.ack()).toBe(SETTLED)
    expect(hooks).toEqual(['claimed', 'finished'])
    expect(lease.nack()).toBe(SETTLED)
    expect(acks).toBe(1)
  })

  /** An adapter whose consume hands `leases` to the handler at once; capabilities as given. */
  function fakeAdapter(leases: Lease[], caps: Partial<Capabilities> = {}): AdapterBroker {
    return {
      transport: 'fake', displayUrl: 'fake://', connect: async () => {}, listQueues: async () => [], close: async () => {},
      stats: async (queue: string) => ({queue, counts: {}}) as never, peek: async () => [], enqueue: async () => [], purge: async () => 0,
      capabilitiesOf: async () => ({consume: true, extend: true, advice: {extend: 'fake leases last as long as they last'}, ...caps}) as Capabilities,
      consume: async (_q: string, handler: LeaseHandler) => {
        for (const lease of leases) handler(lease)
        return {closed: new Promise<undefined>(() => {}), close: async () => {}}
      },
    } as unknown as AdapterBroker
  }

  async function leasesOf(broker: Broker): Promise<Lease[]> {
    const got: Lease[] = []
    await broker.consume('q', (lease) => void got.push(lease), {prefetch: 10, leaseMs: 1000})
    return got
  }

  it('a bounded broker passes SETTLED through (no deadline to keep), still bounds a settle that waits, and fails both at once while down', async () => {
    const local = onceLease(message('local'), {ack: () => SETTLED, nack: () => SETTLED, deadLetter: () => SETTLED})
    const waiting = onceLease(message('waiting'), {ack: () => new Promise<void>(() => {}), nack: async () => {}, deadLetter: async () => {}})
    const later = onceLease(message('later'), {ack: () => SETTLED, nack: () => SETTLED, deadLetter: () => SETTLED})
    const [a, b, c] = await leasesOf(boundedBroker(guardBroker(fakeAdapter([local, waiting, later])), 100))
    expect(a!.ack()).toBe(SETTLED)
    const t0 = performance.now()
    const stalled = await b!.ack().catch((e: unknown) => e)
    expect(stalled).toBeInstanceOf(ConnectionError)
    expect((stalled as Error).message).toMatch(/did not answer \(ack\) within 0\.1 s/)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90)
    // the network is down for the timeout: even a local settle fails at once, as every call does
    await expect(c!.ack()).rejects.toBe(stalled)
  })

  it('over the guard, one lease wrapper: extend refuses with the queue’s advice where leases cannot be extended, ack reaches the adapter’s lease', async () => {
    let acked = 0
    const inner = onceLease(message(), {ack: () => (acked++, SETTLED), nack: () => SETTLED, deadLetter: () => SETTLED, extend: async () => {}})
    const [lease] = await leasesOf(boundedBroker(guardBroker(fakeAdapter([inner], {extend: false})), 1000))
    const refused = await lease!.extend(10).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(NotSupportedError)
    expect((refused as Error).message).toMatch(/fake leases last as long as they last/)
    expect(lease!.ack()).toBe(SETTLED)
    expect(acked).toBe(1)
  })
})

describe('subscription pieces', () => {
  it('ClosedSignal resolves with the first end()', async () => {
    const closed = new ClosedSignal()
    closed.end(new Error('first'))
    closed.end(undefined)
    expect((await closed.promise)?.message).toBe('first')
  })

  it('Waker wakes every waiter at once, or each after its own timeout', async () => {
    const waker = new Waker()
    const woken: string[] = []
    const a = waker.wait().then(() => woken.push('a'))
    const b = waker.wait(60_000).then(() => woken.push('b'))
    waker.wake()
    await Promise.all([a, b])
    expect(woken.sort()).toEqual(['a', 'b'])
    const t = Date.now()
    await waker.wait(20)
    expect(Date.now() - t).toBeGreaterThanOrEqual(15)
  })

  it('Outage tells lost once and back once, and counts its budget from the first failure', () => {
    const told: string[] = []
    const outage = new Outage(1000, (state) => told.push(state))
    expect(outage.begin()).toBe(true)
    expect(outage.begin()).toBe(false)
    outage.lost(new Error('gone'))
    outage.lost(new Error('gone'))
    expect(outage.left()).toBeGreaterThan(900)
    expect(outage.nextDelay()).toBeLessThanOrEqual(100)
    outage.over()
    outage.over()
    expect(told).toEqual(['lost', 'back'])
  })

  it('withDeadline rejects with the timeout error when the promise is late', async () => {
    await expect(withDeadline(new Promise(() => {}), 10, () => new Error('late'))).rejects.toThrow('late')
    await expect(withDeadline(Promise.resolve(1), 1000, () => new Error('late'))).resolves.toBe(1)
  })
})

describe('chunkBySize', () => {
  it('keeps order and both limits; an oversized item goes alone', () => {
    const sizes = [3, 3, 3, 10, 1, 1, 1, 1]
    expect(chunkBySize(sizes, (n) => n, {maxItems: 3, maxBytes: 6})).toEqual([[3, 3], [3], [10], [1, 1, 1], [1]])
  })
})

describe('peekWith', () => {
  it('opens the queue even for limit 0, then reads nothing', async () => {
    const calls: string[] = []
    const out = await peekWith(
      {limit: 0},
      async (state) => void calls.push(`open ${state}`),
      async () => {
        calls.push('read')
        return []
      },
    )
    expect(out).toEqual([])
    expect(calls).toEqual(['open waiting'])
  })
})

describe('startPollLoop', () => {
  it('never holds more than prefetch unsettled leases, and hands items fetched while closing straight back', async () => {
    const log: string[] = []
    const leases: Lease[] = []
    let asked = 0
    const sub = startPollLoop({
      prefetch: 2,
      handler: (lease) => leases.push(lease),
      fetch: async (n) => {
        asked = Math.max(asked, n)
        return Array.from({length: n}, (_, i) => ({message: message(`m${i}`), ops: recordingOps(log)}))
      },
      describeError: (error) => error as Error,
      isConnectionFailure: () => false,
    })
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(leases.length).toBe(2)
    expect(asked).toBe(2)
    await leases[0]!.ack()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(leases.length).toBe(3)
    await sub.close()
    expect(await sub.closed).toBeUndefined()
    expect(sub.resumes).toBe(false)
  })

  it('an ack that brings the next item hands it to the handler itself: no fetch, its slot left for it while it comes', async () => {
    const log: string[] = []
    const leases: Lease[] = []
    const asked: number[] = []
    let loop: {deliver(item: {message: Message; ops: SettleOps}): void; wake(): void} | undefined
    let coming = 0
    let first = true
    let seq = 0
    // an ack that, like bull's moveToFinished, takes the next item in the same call
    const opsOf = (): SettleOps => ({
      ...recordingOps(log),
      ack: async () => {
        coming++
        await new Promise((resolve) => setTimeout(resolve, 5))
        coming--
        loop!.deliver({message: message(`n${seq++}`), ops: opsOf()})
      },
    })
    const sub = startPollLoop({
      prefetch: 2,
      handler: (lease) => leases.push(lease),
      attach: (l) => (loop = l),
      coming: () => coming,
      fetch: async (n) => {
        asked.push(n)
        if (!first) return []
        first = false
        return Array.from({length: n}, (_, i) => ({message: message(`m${i}`), ops: opsOf()}))
      },
      describeError: (error) => error as Error,
      isConnectionFailure: () => false,
    })
    for (let t = 0; leases.length < 2 && t < 100; t++) await new Promise((resolve) => setTimeout(resolve, 5))
    const fetchesBefore = asked.length
    for (let i = 0; i < 10; i++) await leases[i]!.ack()
    expect(leases.map((l) => l.message.id)).toEqual(['m0', 'm1', ...Array.from({length: 10}, (_, i) => `n${i}`)])
    // while the acks were bringing their next items, the loop asked for nothing: those slots were theirs
    expect(asked.slice(fetchesBefore)).toEqual([])
    await sub.close()
  })

  it('waits out a connection failure within reconnectMs, then ends with the error', async () => {
    const told: string[] = []
    let calls = 0
    const sub = startPollLoop({
      prefetch: 1,
      handler: () => {},
      fetch: async () => {
        calls++
        throw new Error('ECONNREFUSED')
      },
      describeError: (error) => error as Error,
      isConnectionFailure: () => true,
      reconnectMs: 150,
      onConnection: (state) => told.push(state),
    })
    expect(sub.resumes).toBe(true)
    expect((await sub.closed)?.message).toBe('ECONNREFUSED')
    expect(calls).toBeGreaterThan(1)
    expect(told).toEqual(['lost'])
  })
})

describe('Watchdog (the deadlines of a bounded broker, on one timer)', () => {
  const never = () => new Promise<never>(() => {})
  const late = (ms: number, value: string) => () => new Promise<string>((resolve) => setTimeout(() => resolve(value), ms))

  it('rejects each stalled call at its own deadline, even one added after a longer one', async () => {
    const stalled: string[] = []
    const w = new Watchdog((what) => (stalled.push(what), new Error(`${what} stalled`)))
    const t0 = performance.now()
    const long = w.run('long', never, 2000).catch((e: Error) => [e.message, performance.now() - t0])
    const short = w.run('short', never, 60).catch((e: Error) => [e.message, performance.now() - t0])
    const [shortMsg, shortMs] = await short
    expect(shortMsg).toBe('short stalled')
    expect(shortMs).toBeGreaterThanOrEqual(55)
    expect(shortMs).toBeLessThan(1500)
    const [longMsg, longMs] = await long
    expect(longMsg).toBe('long stalled')
    expect(longMs).toBeGreaterThanOrEqual(1995)
    expect(stalled).toEqual(['short', 'long'])
    expect(w.size).toBe(0)
  })

  it('answers as the work does in time, tells onAnswer, and ignores an answer past the deadline', async () => {
    let answered = 0
    const w = new Watchdog((what) => new Error(`${what} stalled`), () => answered++)
    await expect(w.run('ok', late(5, 'v'), 200)).resolves.toBe('v')
    await expect(w.run('fails', () => Promise.reject(new Error('refused')), 200)).rejects.toThrow('refused')
    await expect(w.run('throws', () => { throw new Error('sync') }, 200)).rejects.toThrow('sync')
    await expect(w.run('slow', late(150, 'too late'), 40)).rejects.toThrow('slow stalled')
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(answered).toBe(1)
    expect(w.size).toBe(0)
  })

  it('keeps many calls in flight on one timer: the quick ones answer, only the stalled one fails', async () => {
    const w = new Watchdog((what) => new Error(`${what} stalled`))
    const quick = Array.from({length: 500}, (_, i) => w.run(`q${i}`, late(1, 'ok'), 100))
    const stuck = w.run('stuck', never, 100)
    expect(w.size).toBe(501)
    expect(new Set(await Promise.all(quick))).toEqual(new Set(['ok']))
    await expect(stuck).rejects.toThrow('stuck stalled')
    expect(w.size).toBe(0)
  })
})
