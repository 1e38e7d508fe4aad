// The flavored broker: one connection shared by several queue layouts or job libraries (Redis's
// list, stream, BullMQ…; PostgreSQL's pg-boss and graphile-worker; Kafka's consumer and share
// groups), each queue addressed as `kind:name`. Written once here; a transport gives a table of
// flavors and a small host, and gets a whole Broker.
//
// API, in short:
// - `Flavor<Ctx>`: what one flavor does for a queue name WITHOUT its `kind:` prefix. stats, peek
//   and purge are required; enqueue, consume, create, delete, retry, remove, pause and resume are optional
//   (a missing one is refused with the flavor's `capabilities.advice`, so declare it false there).
//   `capabilitiesOf(ctx, name)` refines the table's capabilities per queue; `close(ctx)` runs on close.
// - `FlavorHost<Ctx, F>`: what the transport owns: its connection (`connect`, `disconnect`), the
//   context each flavor gets (`contextOf`, which may throw when a library is absent), driver-error
//   mapping (`run`), bare-name detection (`detect`, `absent`), listing (`discover`) and the
//   broker-wide default (`defaultFlavor`).
// - `FlavoredBroker`: the Broker. It owns `kind:name` resolution (cached for bare names), the
//   ambiguity and not-found errors, EnqueueOptions.flavor, per-method delegation, the full
//   `kind:name` on stats/messages/leases, and the subscriptions it closes on close().
import type {
  Broker,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  Lease,
  LeaseHandler,
  Message,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueList,
  QueueOptions,
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  WorkerReport,
  WorkersOptions,
} from '../contract.js'
import {refuse, type Refusable} from '../capabilities.js'
import {NotSupportedError, UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {closeWithin} from './deadline.js'

/** One flavor: a queue layout or job library, behind a `kind:` prefix. Names come without the prefix. */
export interface Flavor<Ctx> {
  /** The `kind` users type and `QueueRef.kind` shows: bullmq, pgboss… */
  readonly kind: string
  /** One line for `--help` and errors: what layout this is. */
  readonly description: string
  /** What its queues can do; says which optional methods below it has. */
  readonly capabilities: Capabilities
  /** Per-queue capabilities (a dead-letter queue of its own…); default: `capabilities`. */
  capabilitiesOf?(ctx: Ctx, name: string): Promise<Capabilities>
  stats(ctx: Ctx, name: string): Promise<QueueStats>
  peek(ctx: Ctx, name: string, options: PeekOptions): Promise<Message[]>
  purge(ctx: Ctx, name: string, state: MessageState): Promise<number>
  /** Creates the queue when it does not exist yet. */
  enqueue?(ctx: Ctx, name: string, messages: OutgoingMessage[], options: EnqueueOptions): Promise<string[]>
  consume?(ctx: Ctx, name: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription>
  /** `options`: the settings `queue create` was given (descriptor createOptions); a flavor without them refuses any. */
  create?(ctx: Ctx, name: string, options?: QueueOptions): Promise<void>
  delete?(ctx: Ctx, name: string): Promise<void>
  retry?(ctx: Ctx, name: string, options: RetryOptions): Promise<number>
  /** Deletes single jobs by id (where `capabilities.remove`). */
  remove?(ctx: Ctx, name: string, ids: readonly string[], state: MessageState): Promise<number>
  pause?(ctx: Ctx, name: string): Promise<void>
  resume?(ctx: Ctx, name: string): Promise<void>
  /** Releases what the flavor holds (library connections) when the broker closes. */
  close?(ctx: Ctx): Promise<unknown>
}

/** A queue of one flavor. */
export interface Located<F> {
  flavor: F
  /** The name inside the flavor (no kind prefix). */
  name: string
}

/** What a transport gives the kit: its connection, its flavors and how to find their queues. */
export interface FlavorHost<Ctx, F extends Flavor<Ctx>> {
  readonly transport: string
  /** Redacted URL, for messages. */
  readonly displayUrl: string
  /** The server's name in messages: `the Redis adapter has no "x" flavor`. */
  readonly server: string
  /** In order: detection and listing follow it. */
  readonly flavors: readonly F[]
  /** Longest each close step may take (a stalled network never answers QUIT); default: unbounded. */
  readonly closeGraceMs?: number
  connect(): Promise<void>
  /** Ends the connection(s) once the subscriptions and flavors are closed. */
  disconnect(): Promise<void>
  /** The context a flavor's calls get; throws when that flavor is not usable here (library absent). */
  contextOf(flavor: F): Ctx
  /** The flavors `close(ctx)` is called for (those with a context). Default: every flavor. */
  opened?(): readonly F[]
  /** Runs one call: connects if needed, and turns driver errors into one UserError line. */
  run<T>(work: () => Promise<T>): Promise<T>
  /** Every queue a bare name could mean, in the order the ambiguity error lists them; `inTheWay`: what stands where a queue would be. */
  detect(name: string): Promise<{found: Located<F>[]; inTheWay?: string[]}>
  /** A bare name no flavor has: the flavor a write makes it in, or undefined (not found); may throw its own error. */
  absent(name: string, forWrite: boolean, inTheWay: readonly string[]): F | undefined
  /** Every queue of every flavor; `incomplete` says why some may be missing. */
  discover(): Promise<{found: Located<F>[]; incomplete?: string}>
  /** The flavor a broker-wide `capabilitiesOf()` describes. */
  defaultFlavor(): F
  /** The consumers and worker processes its libraries record (`queue workers`); default: none recorded. */
  workers?(options: WorkersOptions): Promise<WorkerReport>
  /** A settling call's driver error, in the user's words (default: as it is). */
  leaseError?(error: unknown): unknown
  /** A subscription's lost-connection error, in the user's words (default: as it is). */
  connectionError?(error: Error): Error
}

type Optional = 'enqueue' | 'consume' | 'create' | 'delete' | 'retry' | 'remove' | 'pause' | 'resume'

/** The Broker over a flavor table. */
export class FlavoredBroker<Ctx, F extends Flavor<Ctx>> implements Broker {
  readonly transport: string
  readonly displayUrl: string
  private readonly resolved = new Map<string, Located<F>>()
  private readonly subscriptions = new Set<Subscription>()
  private closed = false

  constructor(private readonly host: FlavorHost<Ctx, F>) {
    this.transport = host.transport
    this.displayUrl = host.displayUrl
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError())
    return this.host.connect()
  }

  flavorByKind(kind: string): F | undefined {
    return this.host.flavors.find((f) => f.kind === kind)
  }

  /** How refusals name a queue: `list queue "jobs" on redis://host`. */
  async queueLabel(queue: string): Promise<string> {
    const r = await this.run(() => this.resolve(queue, true))
    return label(r, this.displayUrl)
  }

  private closedError(): UsageError {
    return new UsageError(`the connection to ${this.displayUrl} is closed`)
  }

  private run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(this.closedError())
    return this.host.run(work)
  }

  /** `kind:name` → that flavor; a bare name → the one flavor that has it (detected), or an error listing them. */
  private async resolve(queue: string, forWrite: boolean): Promise<Located<F> & {ctx: Ctx}> {
    const r = await this.locate(queue, forWrite)
    return {...r, ctx: this.host.contextOf(r.flavor)}
  }

  private async locate(queue: string, forWrite: boolean): Promise<Located<F>> {
    const colon = queue.indexOf(':')
    const kind = colon > 0 ? this.flavorByKind(queue.slice(0, colon)) : undefined
    if (kind) {
      const name = queue.slice(colon + 1)
      if (!name) throw new UsageError(`"${queue}" names no queue — write ${kind.kind}:NAME`)
      return {flavor: kind, name}
    }
    if (!queue) throw new UsageError('the queue name is empty')
    const cached = this.resolved.get(queue)
    if (cached) return cached
    const {found, inTheWay = []} = await this.host.detect(queue)
    if (found.length > 1) {
      const names = found.map((r) => `${r.flavor.kind}:${r.name}`)
      throw new UsageError(`queue "${queue}" is ambiguous on ${this.displayUrl}: it matches ${names.join(', ')} — name one of them with its kind`, names)
    }
    if (found.length === 1) {
      this.resolved.set(queue, found[0]!)
      return found[0]!
    }
    const flavor = this.host.absent(queue, forWrite, inTheWay)
    if (forWrite && flavor) return {flavor, name: queue}
    const known = await this.listQueues().catch(() => [] as QueueRef[])
    throw queueNotFound(queue, this.displayUrl, known.flatMap((r) => [r.name, r.name.slice(r.kind.length + 1)]))
  }

  /** Applies EnqueueOptions.flavor: `emails` + celery → `celery:emails`, refusing flavors this transport lacks. */
  private withFlavor(queue: string, flavor: string | undefined): string {
    if (!flavor) return queue
    if (!this.flavorByKind(flavor)) {
      throw new NotSupportedError(`the ${this.host.server} adapter has no "${flavor}" flavor — it knows: ${this.host.flavors.map((f) => f.kind).join(', ')}`)
    }
    const colon = queue.indexOf(':')
    const given = colon > 0 ? this.flavorByKind(queue.slice(0, colon)) : undefined
    if (given && given.kind !== flavor) throw new UsageError(`queue "${queue}" is a ${given.kind} queue, but the ${flavor} format was asked for — drop one of them`)
    return given ? queue : `${flavor}:${queue}`
  }

  /** The flavor's optional method, or the refusal with its advice (the guard refuses before, where the capability says so). */
  private method<K extends Optional>(r: Located<F>, key: K, op: Refusable): NonNullable<F[K]> {
    const fn = r.flavor[key]
    if (typeof fn !== 'function') throw refuse(op, label(r, this.displayUrl), r.flavor.capabilities)
    return (fn as (...args: unknown[]) => unknown).bind(r.flavor) as NonNullable<F[K]>
  }

  async listQueues(): Promise<QueueList> {
    return this.run(async () => {
      const {found, incomplete} = await this.host.discover()
      const refs: QueueList = found.map((r) => ({name: `${r.flavor.kind}:${r.name}`, kind: r.flavor.kind}))
      refs.sort((a, b) => a.name.localeCompare(b.name))
      if (incomplete) refs.incomplete = incomplete
      return refs
    })
  }

  async stats(queue: string): Promise<QueueStats> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return {...(await r.flavor.stats(r.ctx, r.name)), name: `${r.flavor.kind}:${r.name}`, kind: r.flavor.kind}
    })
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      const full = `${r.flavor.kind}:${r.name}`
      return (await r.flavor.peek(r.ctx, r.name, options)).map((m) => ({...m, queue: full}))
    })
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options: EnqueueOptions = {}): Promise<string[]> {
    return this.run(async () => {
      const r = await this.resolve(this.withFlavor(queue, options.flavor), true)
      const enqueue = this.method(r, 'enqueue', 'enqueue')
      if (messages.length === 0) return []
      return enqueue(r.ctx, r.name, messages, options)
    })
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      const consume = this.method(r, 'consume', 'consume')
      const full = `${r.flavor.kind}:${r.name}`
      const sub = await consume(r.ctx, r.name, (lease) => {
        ;(lease.message as {queue: string}).queue = full
        handler(this.mappedLease(lease))
      }, {...options, onConnection: this.mappedOnConnection(options.onConnection)})
      return this.tracked(sub)
    })
  }

  private mappedOnConnection(told: ConsumeOptions['onConnection']): ConsumeOptions['onConnection'] {
    const map = this.host.connectionError?.bind(this.host)
    if (!told || !map) return told
    return (state, error) => told(state, error && map(error))
  }

  /** The lease with its settling calls' driver errors mapped: a crash mid-move says so in one line. */
  private mappedLease(lease: Lease): Lease {
    const mapError = this.host.leaseError?.bind(this.host)
    if (!mapError) return lease
    const map = <T>(p: Promise<T>) => p.catch((error: unknown) => Promise.reject(mapError(error)))
    return {
      message: lease.message,
      ack: () => map(lease.ack()),
      nack: (options) => map(lease.nack(options)),
      deadLetter: (reason) => map(lease.deadLetter(reason)),
      extend: (ms) => map(lease.extend(ms)),
    }
  }

  /** Kept until closed, so close() ends it; its end-error in the user's words. */
  private tracked(sub: Subscription): Subscription {
    this.subscriptions.add(sub)
    const map = this.host.connectionError?.bind(this.host)
    return {
      resumes: sub.resumes,
      closed: map ? sub.closed.then((error) => error && map(error)) : sub.closed,
      close: async () => {
        this.subscriptions.delete(sub)
        await sub.close()
      },
    }
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return r.flavor.purge(r.ctx, r.name, state)
    })
  }

  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      const create = this.method(r, 'create', 'create')
      this.resolved.delete(queue)
      await create(r.ctx, r.name, options)
    })
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    const host = this.host
    if (!host.workers) return {workers: [], notes: [`${host.server} keeps no registry of its workers here`], recorded: false}
    return this.run(() => host.workers!(options))
  }

  async deleteQueue(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      const remove = this.method(r, 'delete', 'delete')
      this.resolved.delete(queue)
      await remove(r.ctx, r.name)
    })
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return this.method(r, 'retry', 'retry')(r.ctx, r.name, options)
    })
  }

  async remove(queue: string, ids: readonly string[], state: MessageState): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return this.method(r, 'remove', 'remove')(r.ctx, r.name, ids, state)
    })
  }

  async pause(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      await this.method(r, 'pause', 'pause')(r.ctx, r.name)
    })
  }

  async resume(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      await this.method(r, 'resume', 'pause')(r.ctx, r.name)
    })
  }

  /** The capabilities of the flavor that holds `queue` (refined per queue where it can); without one, the default flavor's. */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    if (queue === undefined) return this.host.defaultFlavor().capabilities
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      return r.flavor.capabilitiesOf ? r.flavor.capabilitiesOf(r.ctx, r.name) : r.flavor.capabilities
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const grace = this.host.closeGraceMs ?? Number.POSITIVE_INFINITY
    const bounded = (work: () => Promise<unknown>) => (Number.isFinite(grace) ? closeWithin(work, grace, () => {}) : work().then(() => {}))
    await bounded(() => Promise.allSettled([...this.subscriptions].map((s) => s.close())))
    this.subscriptions.clear()
    const opened = this.host.opened?.() ?? this.host.flavors
    await bounded(() => Promise.allSettled(opened.map((f) => f.close?.(this.host.contextOf(f)))))
    await this.host.disconnect()
  }
}

/** `list queue "jobs" on redis://host`, for refusals. */
function label(r: Located<{kind: string}>, displayUrl: string): string {
  return `${r.flavor.kind} queue "${r.name}" on ${displayUrl}`
}
