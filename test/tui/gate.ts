// A real memory broker behind a gate, to play a broker that stops answering (calls hang until the
// gate opens) or refuses (calls reject), and to count how many stats calls run at once.
import type {Broker, Message, PeekOptions, QueueRef, QueueStats} from '../../src/broker/contract.js'
import {createBroker} from '../../src/adapters/registry.js'

let n = 0
export async function memoryBroker(): Promise<Broker> {
  const broker = await createBroker(`memory://tui-${process.pid}-${n++}`, {timeoutMs: 1000})
  await broker.connect()
  return broker
}

type Mode = 'open' | 'hang' | 'refuse'

export class GatedBroker {
  private mode_: Mode = 'open'
  private waiters: (() => void)[] = []
  private inFlight = 0
  /** Most stats calls in flight at the same time so far. */
  maxConcurrentStats = 0
  readonly displayUrl = 'memory://gated'

  constructor(readonly inner: Broker) {}

  get mode(): Mode {
    return this.mode_
  }

  set mode(m: Mode) {
    this.mode_ = m
    // opening the gate releases every hung call
    if (m !== 'hang') for (const w of this.waiters.splice(0)) w()
  }

  private async gate<T>(fn: () => Promise<T>): Promise<T> {
    if (this.mode_ === 'refuse') throw new Error('connect ECONNREFUSED 127.0.0.1:6379')
    while (this.mode_ === 'hang') await new Promise<void>((resolve) => this.waiters.push(resolve))
    return fn()
  }

  /** The Broker the code under test sees: the memory broker's, through the gate. */
  get broker(): Broker {
    const inner = this.inner
    return Object.assign(Object.create(inner) as Broker, {
      displayUrl: this.displayUrl,
      listQueues: (): Promise<QueueRef[]> => this.gate(() => inner.listQueues()),
      stats: (q: string): Promise<QueueStats> =>
        this.gate(async () => {
          this.inFlight++
          this.maxConcurrentStats = Math.max(this.maxConcurrentStats, this.inFlight)
          try {
            // a real broker answers over the network: let calls overlap
            await new Promise((resolve) => setTimeout(resolve, 2))
            return await inner.stats(q)
          } finally {
            this.inFlight--
          }
        }),
      peek: (q: string, o: PeekOptions): Promise<Message[]> => this.gate(() => inner.peek(q, o)),
    })
  }
}

export async function gatedBroker(): Promise<GatedBroker> {
  return new GatedBroker(await memoryBroker())
}

/** Polls `check` until it passes or `timeoutMs` runs out (then throws its last error). */
export async function eventually(check: () => void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}
