// The one guard the registry puts around every broker (src/adapters/registry.ts): what a queue
// cannot do is refused here, once, in one wording, so that an adapter implements only what it can
// do and leaves the rest out (kombu's virtual Channel refuses the rest in one place the same way).
//
// - createQueue, deleteQueue, retry, remove, pause, resume are optional on an AdapterBroker: a missing one
//   is refused with `refuse()` and the queue's advice, after the existence check (a missing queue
//   is exit 4 NotFound first, except for createQueue).
// - peek: a broker that cannot peek, or a state the queue does not keep, is refused before the
//   adapter is asked; limit 0 reads nothing but still checks the queue exists.
// - consume: a queue that cannot be consumed is refused; where leases cannot be extended,
//   `lease.extend` refuses with the advice, whatever the adapter's lease does.
// - `capabilitiesFor(broker, queue)`: a queue's capabilities, or the broker's own when the queue
//   cannot say (it does not exist yet): the one fallback every caller uses.
// - `requireCapability` / `refusal`: the same refusal for a command or service that checks before
//   it starts (before reading stdin, before starting workers); test/unit/refusals.test.ts checks
//   that nothing outside src/broker/kit calls `refuse()` itself.
import type {
  AdapterBroker,
  Broker,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  Lease,
  LeaseHandler,
  Message,
  NackOptions,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueOptions,
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  WorkerReport,
  WorkersOptions,
} from '../contract.js'
import {refuse, type Refusable} from '../capabilities.js'
import {NotSupportedError} from '../../kernel/errors.js'

/** A queue's capabilities, or the broker's own where the queue cannot tell (not made yet, e.g. on SQS). */
export function capabilitiesFor(broker: Pick<Broker, 'capabilitiesOf'>, queue?: string): Promise<Capabilities> {
  if (queue === undefined) return broker.capabilitiesOf()
  return broker.capabilitiesOf(queue).catch(() => broker.capabilitiesOf())
}

/** The refusal in the guard's words, for a caller that checks before it starts (reads stdin, starts workers). */
export function refusal(op: Refusable, queue: string, broker: Pick<Broker, 'displayUrl'>, caps: Pick<Capabilities, 'advice'>): NotSupportedError {
  return refuse(op, `queue "${queue}" on ${broker.displayUrl}`, caps)
}

/** Throws that refusal unless the queue's capabilities allow `op`. */
export function requireCapability(caps: Capabilities, op: 'enqueue' | 'consume' | 'create' | 'delete', queue: string, broker: Pick<Broker, 'displayUrl'>): void {
  if (!caps[op]) throw refusal(op, queue, broker, caps)
}

/** Refuses what needs consuming to take messages off (move, work --until-empty) on a queue whose consuming removes nothing. */
export function requireDraining(caps: Capabilities, queue: string, broker: Pick<Broker, 'displayUrl'>): void {
  if (caps.consumeDrains === false) throw refusal('drain', queue, broker, caps)
}

/** The Broker every caller gets: the adapter's, with every refusal of a capability it lacks written once. */
export function guardBroker(inner: AdapterBroker): Broker {
  return inner instanceof GuardedBroker ? inner : new GuardedBroker(inner)
}

class GuardedBroker implements Broker {
  readonly transport: string
  readonly displayUrl: string

  constructor(private readonly inner: AdapterBroker) {
    this.transport = inner.transport
    this.displayUrl = inner.displayUrl
  }

  /** How refusals name the queue: the adapter's words (`bullmq queue "jobs" on redis://…`), else `queue "jobs" on URL`. */
  private async label(queue: string): Promise<string> {
    return (await this.inner.queueLabel?.(queue)) ?? `queue "${queue}" on ${this.displayUrl}`
  }

  /** The refusal of `op` on a queue: the queue must exist first (not for create), then the advice of its capabilities. */
  private async refusal(op: Refusable, queue: string): Promise<never> {
    if (op !== 'create') await this.inner.stats(queue)
    throw refuse(op, await this.label(queue), await capabilitiesFor(this.inner, queue))
  }

  connect(): Promise<void> {
    return this.inner.connect()
  }

  listQueues(): Promise<QueueRef[]> {
    return this.inner.listQueues()
  }

  stats(queue: string): Promise<QueueStats> {
    return this.inner.stats(queue)
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    const caps = await capabilitiesFor(this.inner, queue)
    if (caps.peek === 'none') {
      throw new NotSupportedError(`${this.displayUrl} cannot peek at messages without consuming them — use \`queue export --consume\` to drain instead`)
    }
    const state = options.state
    if (state && !caps.states.includes(state)) {
      throw new NotSupportedError(`queue "${queue}" on ${this.displayUrl} keeps no "${state}" messages — states here: ${caps.states.join(', ')}`)
    }
    const limit = Math.max(0, Math.floor(options.limit))
    if (limit === 0) {
      await this.inner.stats(queue)
      return []
    }
    return this.inner.peek(queue, {...options, limit})
  }

  enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
    // not checked here: a capabilitiesOf per batch would cost a round trip on the hot path (the flavored kit refuses per flavor)
    return this.inner.enqueue(queue, messages, options)
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    const caps = await capabilitiesFor(this.inner, queue)
    if (!caps.consume) throw refuse('consume', await this.label(queue), caps)
    if (caps.extend) return this.inner.consume(queue, handler, options)
    const where = await this.label(queue)
    return this.inner.consume(queue, (lease) => handler(withoutExtend(lease, where, caps)), options)
  }

  purge(queue: string, state?: MessageState): Promise<number> {
    return this.inner.purge(queue, state)
  }

  capabilitiesOf(queue?: string): Promise<Capabilities> {
    return this.inner.capabilitiesOf(queue)
  }

  async createQueue(queue: string, options?: QueueOptions): Promise<void> {
    if (!this.inner.createQueue) return this.refusal('create', queue)
    return this.inner.createQueue(queue, options)
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    if (!this.inner.workers) return {workers: [], notes: [`${this.displayUrl} keeps no registry of its consumers`], recorded: false}
    return this.inner.workers(options)
  }

  async deleteQueue(queue: string): Promise<void> {
    if (!this.inner.deleteQueue) return this.refusal('delete', queue)
    return this.inner.deleteQueue(queue)
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    if (!this.inner.retry) return this.refusal('retry', queue)
    return this.inner.retry(queue, options)
  }

  async remove(queue: string, ids: readonly string[], state: MessageState): Promise<number> {
    if (!this.inner.remove) return this.refusal('remove', queue)
    return this.inner.remove(queue, ids, state)
  }

  async pause(queue: string): Promise<void> {
    if (!this.inner.pause) return this.refusal('pause', queue)
    return this.inner.pause(queue)
  }

  async resume(queue: string): Promise<void> {
    if (!this.inner.resume) return this.refusal('pause', queue)
    return this.inner.resume(queue)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

/** The lease, with an extend that refuses with the queue's advice (the queue's leases cannot be kept longer). */
function withoutExtend(lease: Lease, where: string, caps: Capabilities): Lease {
  return new LeaseWithoutExtend(lease, where, caps)
}

/** A class, so a delivery allocates one object, not four closures (and a bounded broker's lease can take its place: deadline.ts). */
export class LeaseWithoutExtend implements Lease {
  readonly message: Message
  constructor(
    readonly inner: Lease,
    private readonly where: string,
    private readonly caps: Capabilities,
  ) {
    this.message = inner.message
  }

  ack(): Promise<void> {
    return this.inner.ack()
  }

  nack(options?: NackOptions): Promise<void> {
    return this.inner.nack(options)
  }

  deadLetter(reason: string): Promise<void> {
    return this.inner.deadLetter(reason)
  }

  async extend(): Promise<void> {
    throw refuse('extend', this.where, this.caps)
  }
}
