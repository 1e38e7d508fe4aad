// The Redis Broker: one connection (or Cluster), `kind:name` addressing, bare-name detection, and
// delegation to the flavor that owns the queue. Flavors live in ./flavors (see ./flavor.ts).
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
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  WorkerReport,
  WorkersOptions,
} from '../../broker/contract.js'
import {refuse} from '../../broker/capabilities.js'
import {NotFoundError, NotSupportedError, UsageError, isUserError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {connectClient, connectionError, createClient, type RedisClient, type RedisTarget} from './connection.js'
import {KeyClaims, type Flavor, type FlavorContext} from './flavor.js'
import {FLAVORS, flavorByKind} from './flavors/index.js'
import {createScanner, DEFAULT_SCAN_BUDGET_MS} from './scan.js'
import {redisWorkers} from './workers.js'
import {closeGraceMs, closeWithin} from '../../broker/kit/deadline.js'

interface Resolved {
  flavor: Flavor
  /** The name inside the flavor (no kind prefix). */
  name: string
}

export class RedisBroker implements Broker {
  readonly transport = 'redis'
  private readonly client: RedisClient
  private readonly ctx: FlavorContext
  private readonly resolved = new Map<string, Resolved>()
  private readonly subscriptions = new Set<Subscription>()
  private readonly duplicates = new Set<RedisClient>()
  private closed = false

  constructor(
    readonly displayUrl: string,
    private readonly target: RedisTarget,
    params: URLSearchParams,
    private readonly timeoutMs: number,
    private readonly defaultFlavor: Flavor,
    private readonly scanBudgetMs: number = DEFAULT_SCAN_BUDGET_MS,
  ) {
    this.client = createClient(target, timeoutMs)
    this.client.on('error', () => {}) // failures surface as rejected commands
    const broker = this
    this.ctx = {
      client: this.client,
      cluster: target.cluster,
      target,
      displayUrl,
      params,
      timeoutMs,
      where: displayUrl,
      get scanner() {
        return createScanner(broker.client, broker.scanBudgetMs)
      },
      duplicate: () => this.duplicate(),
    }
  }

  async connect(): Promise<void> {
    await connectClient(this.client, this.timeoutMs, this.displayUrl, this.target.username, Boolean(this.target.tls))
  }

  private async duplicate(): Promise<RedisClient> {
    const copy = createClient(this.target, this.timeoutMs)
    copy.on('error', () => {})
    await connectClient(copy, this.timeoutMs, this.displayUrl, this.target.username, Boolean(this.target.tls))
    this.duplicates.add(copy)
    copy.once('end', () => this.duplicates.delete(copy))
    return copy
  }

  /** Runs a flavor call, turning driver errors (lost connection, ACL) into one UserError line. */
  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new UsageError(`the connection to ${this.displayUrl} is closed`)
    try {
      return await work()
    } catch (error) {
      throw this.userErrorOf(error)
    }
  }

  /** A driver error as one UserError line where it is a known kind (lost connection, ACL, wrong type); other errors as they are. */
  private userErrorOf(error: unknown): unknown {
    if (isUserError(error)) return error
    const message = String((error as Error)?.message ?? error)
    if (/WRONGTYPE/.test(message)) {
      return new NotFoundError(`a key on ${this.displayUrl} has another type than this queue kind expects (${message.split('\n')[0]}) — check the queue name and kind`)
    }
    if (/NOPERM|NOAUTH|WRONGPASS|ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|Stream isn't writeable|enableOfflineQueue|CLUSTERDOWN|ETIMEDOUT|max retries|^LOADING\b/i.test(message)) {
      return connectionError(error, this.displayUrl, this.target.username)
    }
    return error
  }

  /** The lease with its settling calls' driver errors mapped: a crash mid-move says so in one line. */
  private mappedLease(lease: Lease): Lease {
    const map = <T>(p: Promise<T>) => p.catch((error: unknown) => Promise.reject(this.userErrorOf(error)))
    return {
      message: lease.message,
      ack: () => map(lease.ack()),
      nack: (options) => map(lease.nack(options)),
      deadLetter: (reason) => map(lease.deadLetter(reason)),
      extend: (ms) => map(lease.extend(ms)),
    }
  }

  /** Applies EnqueueOptions.flavor: `emails` + celery → `celery:emails`, refusing flavors this adapter lacks. */
  private withFlavor(queue: string, flavor: string | undefined): string {
    if (!flavor) return queue
    if (!flavorByKind(flavor)) {
      throw new NotSupportedError(`the Redis adapter has no "${flavor}" flavor — it knows: ${FLAVORS.map((f) => f.kind).join(', ')}`)
    }
    const colon = queue.indexOf(':')
    const given = colon > 0 ? flavorByKind(queue.slice(0, colon)) : undefined
    if (given && given.kind !== flavor) throw new UsageError(`queue "${queue}" is a ${given.kind} queue, but the ${flavor} format was asked for — drop one of them`)
    return given ? queue : `${flavor}:${queue}`
  }

  /** `kind:name` → that flavor; a bare name → the one flavor that has it (detected), or an error listing them. */
  private async resolve(queue: string, forWrite: boolean): Promise<Resolved> {
    const colon = queue.indexOf(':')
    const kind = colon > 0 ? flavorByKind(queue.slice(0, colon)) : undefined
    if (kind) {
      const name = queue.slice(colon + 1)
      if (!name) throw new UsageError(`"${queue}" names no queue — write ${kind.kind}:NAME`)
      return {flavor: kind, name}
    }
    if (!queue) throw new UsageError('the queue name is empty')
    const cached = this.resolved.get(queue)
    if (cached) return cached
    const found: Resolved[] = []
    const wrongTypes: string[] = []
    for (const flavor of FLAVORS) {
      if (flavor.locate) {
        for (const name of await flavor.locate(this.ctx, queue)) found.push({flavor, name})
        continue
      }
      const probe = await flavor.probe(this.ctx, queue)
      if (probe.exists) found.push({flavor, name: queue})
      else if ('wrongType' in probe) wrongTypes.push(`${probe.key} is a ${probe.wrongType}`)
    }
    // A Celery queue IS a list under the same key: the list reading is the same data, less decoded.
    if (found.some((r) => r.flavor.kind === 'celery' && r.name === queue)) {
      found.splice(0, found.length, ...found.filter((r) => !(r.flavor.kind === 'list' && r.name === queue)))
    }
    if (found.length > 1) {
      const names = found.map((r) => `${r.flavor.kind}:${r.name}`).sort()
      throw new UsageError(`queue "${queue}" is ambiguous on ${this.displayUrl}: it matches ${names.join(', ')} — name one of them with its kind`, names)
    }
    if (found.length === 1) {
      this.resolved.set(queue, found[0]!)
      return found[0]!
    }
    if (forWrite) {
      if (wrongTypes.length > 0 && this.defaultFlavor.kind !== 'bullmq') {
        throw new NotFoundError(`cannot use "${queue}" as a ${this.defaultFlavor.kind} queue on ${this.displayUrl}: key ${wrongTypes[0]} — pick another name or give the kind (e.g. bullmq:${queue})`)
      }
      return {flavor: this.defaultFlavor, name: queue}
    }
    if (wrongTypes.length > 0) {
      throw new NotFoundError(`no queue "${queue}" on ${this.displayUrl}: key ${wrongTypes.join(', ')}, not a queue — name a queue, e.g. one from \`queue inspect\``)
    }
    const known = await this.listQueues().catch(() => [] as QueueRef[])
    throw queueNotFound(queue, this.displayUrl, known.flatMap((r) => [r.name, r.name.slice(r.kind.length + 1)]))
  }

  async listQueues(): Promise<QueueList> {
    return this.run(async () => {
      const claims = new KeyClaims()
      const scanner = createScanner(this.client, this.scanBudgetMs)
      // start every pass now: they share the budget instead of the last flavor getting none
      const started = FLAVORS.flatMap((f) => f.scans.map((spec) => scanner.scan(spec)))
      started.forEach((p) => p.catch(() => {}))
      const ctx = {...this.ctx, scanner}
      const refs: QueueList = []
      let complete = true
      for (const flavor of FLAVORS) {
        const found = await flavor.discover(ctx, claims)
        complete &&= found.complete
        for (const name of found.names) refs.push({name: `${flavor.kind}:${name}`, kind: flavor.kind})
      }
      refs.sort((a, b) => a.name.localeCompare(b.name))
      if (!complete) {
        refs.incomplete = `SCAN of ${this.displayUrl} stopped after ${this.scanBudgetMs} ms: queues may be missing — raise ?scanBudgetMs= in the URL, or name the queue as kind:name`
      }
      return refs
    })
  }

  async stats(queue: string): Promise<QueueStats> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      const stats = await r.flavor.stats(this.ctx, r.name)
      return {...stats, name: `${r.flavor.kind}:${r.name}`, kind: r.flavor.kind}
    })
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      const full = `${r.flavor.kind}:${r.name}`
      return (await r.flavor.peek(this.ctx, r.name, options)).map((m) => ({...m, queue: full}))
    })
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options: EnqueueOptions = {}): Promise<string[]> {
    return this.run(async () => {
      const r = await this.resolve(this.withFlavor(queue, options.flavor), true)
      if (!r.flavor.capabilities.enqueue || !r.flavor.enqueue) throw refuse('enqueue', this.where(r), r.flavor.capabilities)
      if (messages.length === 0) return []
      return r.flavor.enqueue(this.ctx, r.name, messages, options)
    })
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      if (!r.flavor.capabilities.consume || !r.flavor.consume) throw refuse('consume', this.where(r), r.flavor.capabilities)
      const full = `${r.flavor.kind}:${r.name}`
      const told = options.onConnection
      const onConnection: ConsumeOptions['onConnection'] = told
        ? (state, error) => told(state, error && !isUserError(error) ? connectionError(error, this.displayUrl, this.target.username) : error)
        : undefined
      const sub = await r.flavor.consume(this.ctx, r.name, (lease) => {
        ;(lease.message as {queue: string}).queue = full
        handler(this.mappedLease(lease))
      }, {...options, onConnection})
      this.subscriptions.add(sub)
      const tracked: Subscription = {
        resumes: sub.resumes,
        closed: sub.closed.then((error) => (error && !isUserError(error) ? connectionError(error, this.displayUrl, this.target.username) : error)),
        close: async () => {
          this.subscriptions.delete(sub)
          await sub.close()
        },
      }
      return tracked
    })
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return r.flavor.purge(this.ctx, r.name, state)
    })
  }

  /** `list queue "jobs" on redis://host`, for refusals. */
  private where(r: Resolved): string {
    return `${r.flavor.kind} queue "${r.name}" on ${this.displayUrl}`
  }

  async createQueue(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      if (!r.flavor.capabilities.create || !r.flavor.create) throw refuse('create', this.where(r), r.flavor.capabilities)
      this.resolved.delete(queue)
      await r.flavor.create(this.ctx, r.name)
    })
  }

  async deleteQueue(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      if (!r.flavor.capabilities.delete || !r.flavor.delete) throw refuse('delete', this.where(r), r.flavor.capabilities)
      this.resolved.delete(queue)
      await r.flavor.delete(this.ctx, r.name)
    })
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    const ctx = this.ctx
    const bullPrefix = ctx.params.get('prefix') ?? (ctx.cluster ? '{bull}' : 'bull')
    const celery = ctx.cluster ? undefined : {db: ctx.target.db, reader: () => ctx.duplicate()}
    return this.run(async () => redisWorkers({client: ctx.client, bullPrefix, celery}, options))
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      if (!r.flavor.capabilities.retry || !r.flavor.retry) throw refuse('retry', this.where(r), r.flavor.capabilities)
      return r.flavor.retry(this.ctx, r.name, options)
    })
  }

  async pause(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      if (!r.flavor.capabilities.pause || !r.flavor.pause) throw refuse('pause', this.where(r), r.flavor.capabilities)
      await r.flavor.pause(this.ctx, r.name)
    })
  }

  async resume(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      if (!r.flavor.capabilities.pause || !r.flavor.resume) throw refuse('pause', this.where(r), r.flavor.capabilities)
      await r.flavor.resume(this.ctx, r.name)
    })
  }

  /** The capabilities of the flavor that holds `queue` (they differ between list, stream, bullmq…); without one, the default flavor's. */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    if (queue === undefined) return this.defaultFlavor.capabilities
    return this.run(async () => (await this.resolve(queue, true)).flavor.capabilities)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    // each step a short while at most: on a stalled network QUIT never gets its answer
    const grace = closeGraceMs(this.timeoutMs)
    const disconnectAll = () => {
      for (const copy of this.duplicates) copy.disconnect()
      this.duplicates.clear()
      this.client.disconnect()
    }
    await closeWithin(() => Promise.allSettled([...this.subscriptions].map((s) => s.close())), grace, () => {})
    this.subscriptions.clear()
    await closeWithin(() => Promise.allSettled(FLAVORS.map((f) => f.close?.(this.ctx))), grace, () => {})
    for (const copy of this.duplicates) copy.disconnect()
    this.duplicates.clear()
    await closeWithin(() => this.client.quit(), grace, disconnectAll)
  }
}
