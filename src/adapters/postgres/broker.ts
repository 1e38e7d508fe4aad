// The PostgreSQL Broker: one pool, detection of the job libraries' tables, `kind:name` addressing,
// bare-name detection, and delegation to the flavor (pgboss, graphile) that owns the queue.
import {randomBytes} from 'node:crypto'
import type {Pool} from 'pg'
import type {
  Broker,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  LeaseHandler,
  Message,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueRef,
  QueueStats,
  RetryOptions,
  Subscription,
  QueueOptions,
  WorkerReport,
  WorkersOptions,
} from '../../broker/contract.js'
import {NotFoundError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {connectError, createPool, toUserError, type Db, type PgTarget} from './connection.js'
import {assertUsable, detect, quoteIdent, type Detected} from './detect.js'
import type {Flavor, FlavorContext} from './flavor.js'
import {graphileFlavor} from './graphile.js'
import {pgbossFlavor} from './pgboss.js'

export const FLAVORS: readonly Flavor[] = [pgbossFlavor, graphileFlavor]
export const flavorByKind = (kind: string) => FLAVORS.find((f) => f.kind === kind)

interface Resolved {
  flavor: Flavor
  ctx: FlavorContext
  name: string
}

export class PostgresBroker implements Broker {
  readonly transport = 'postgres'
  private pool: Pool | undefined
  private readonly contexts = new Map<string, FlavorContext>()
  private readonly refusals = new Map<string, Error>()
  private readonly subscriptions = new Set<Subscription>()
  private readonly workerId = `queuectl-${randomBytes(6).toString('hex')}`
  private closed = false

  constructor(
    readonly displayUrl: string,
    private readonly target: PgTarget,
    private readonly params: URLSearchParams,
    private readonly defaultKind: string | undefined,
  ) {}

  private defaultFlavor(): Flavor | undefined {
    if (this.defaultKind) return flavorByKind(this.defaultKind)
    const found = FLAVORS.filter((f) => this.contexts.has(f.kind))
    return found.length === 1 ? found[0] : undefined
  }

  private wrap = (error: unknown): Error => toUserError(error, this.displayUrl, this.target)

  async connect(): Promise<void> {
    if (this.closed) throw new UsageError(`the connection to ${this.displayUrl} is closed`)
    if (this.pool) return
    const pool = await createPool(this.target)
    this.pool = pool
    try {
      const db = this.db(pool)
      const schema = this.params.get('schema')
      const detected = await detect(db, {
        pgboss: this.params.get('pgbossSchema') ?? schema ?? 'pgboss',
        graphile: this.params.get('graphileSchema') ?? schema ?? 'graphile_worker',
      }, this.displayUrl)
      assertUsable(detected, this.target.database, this.displayUrl)
      this.remember(detected, db)
    } catch (error) {
      throw connectError(error, this.displayUrl, this.target)
    }
  }

  private db(pool: Pool): Db {
    return {
      query: async (text, values) => (await pool.query(text, values)).rows,
      client: () => pool.connect(),
    }
  }

  private remember(detected: Detected, db: Db): void {
    for (const flavor of FLAVORS) {
      const found = detected[flavor.kind as 'pgboss' | 'graphile']
      if (!found) continue
      if ('refused' in found) {
        this.refusals.set(flavor.kind, found.refused)
        continue
      }
      this.contexts.set(flavor.kind, {
        db,
        schema: quoteIdent(found.schema),
        version: found.version,
        displayUrl: this.displayUrl,
        params: this.params,
        workerId: this.workerId,
        wrap: this.wrap,
      })
    }
  }

  /** Runs a flavor call, turning driver errors into one UserError line. */
  private async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new UsageError(`the connection to ${this.displayUrl} is closed`)
    if (!this.pool) await this.connect()
    try {
      return await work()
    } catch (error) {
      throw this.wrap(error)
    }
  }

  private contextOf(flavor: Flavor): FlavorContext {
    const ctx = this.contexts.get(flavor.kind)
    if (ctx) return ctx
    const refused = this.refusals.get(flavor.kind)
    if (refused) throw refused
    const library = flavor.kind === 'pgboss' ? 'pg-boss' : 'graphile-worker'
    throw new NotFoundError(`no ${library} tables in database "${this.target.database}" on ${this.displayUrl} — start ${library} once against it, or give ?schema= for a non-default schema`)
  }

  /** `kind:name` → that flavor; a bare name → the one library that has it, or an error listing both. */
  private async resolve(queue: string, forWrite: boolean): Promise<Resolved> {
    const colon = queue.indexOf(':')
    const kind = colon > 0 ? flavorByKind(queue.slice(0, colon)) : undefined
    if (kind) {
      const name = queue.slice(colon + 1)
      if (!name) throw new UsageError(`"${queue}" names no queue — write ${kind.kind}:NAME`)
      return {flavor: kind, ctx: this.contextOf(kind), name}
    }
    if (!queue) throw new UsageError('the queue name is empty')
    const found: Resolved[] = []
    for (const flavor of FLAVORS) {
      const ctx = this.contexts.get(flavor.kind)
      if (ctx && (await flavor.exists(ctx, queue))) found.push({flavor, ctx, name: queue})
    }
    if (found.length > 1) {
      const names = found.map((r) => `${r.flavor.kind}:${r.name}`)
      throw new UsageError(`queue "${queue}" is ambiguous on ${this.displayUrl}: it matches ${names.join(', ')} — name one of them with its kind`, names)
    }
    if (found.length === 1) return found[0]!
    const fallback = this.defaultFlavor()
    if (forWrite && fallback) return {flavor: fallback, ctx: this.contextOf(fallback), name: queue}
    if (forWrite) throw new UsageError(`queue "${queue}" does not exist yet on ${this.displayUrl} and both pg-boss and graphile-worker are there — write pgboss:${queue} or graphile:${queue}`)
    const known = await this.listQueues().catch(() => [] as QueueRef[])
    throw queueNotFound(queue, this.displayUrl, known.flatMap((r) => [r.name, r.name.slice(r.kind.length + 1)]))
  }

  async listQueues(): Promise<QueueRef[]> {
    return this.run(async () => {
      const refs: QueueRef[] = []
      for (const flavor of FLAVORS) {
        const ctx = this.contexts.get(flavor.kind)
        if (!ctx) continue
        for (const name of await flavor.list(ctx)) refs.push({name: `${flavor.kind}:${name}`, kind: flavor.kind})
      }
      return refs.sort((a, b) => a.name.localeCompare(b.name))
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
      if (options.flavor && !flavorByKind(options.flavor)) {
        throw new NotSupportedError(`the PostgreSQL adapter has no "${options.flavor}" format — it knows: ${FLAVORS.map((f) => f.kind).join(', ')}`)
      }
      const r = await this.resolve(options.flavor && !queue.includes(':') ? `${options.flavor}:${queue}` : queue, true)
      if (messages.length === 0) return []
      const ids = await r.flavor.enqueue(r.ctx, r.name, messages, options)
      options.onProgress?.(messages.length)
      return options.ids === false ? [] : ids
    })
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      const full = `${r.flavor.kind}:${r.name}`
      const sub = await r.flavor.consume(r.ctx, r.name, (lease) => {
        ;(lease.message as {queue: string}).queue = full
        handler(lease)
      }, options)
      this.subscriptions.add(sub)
      return {
        resumes: sub.resumes,
        closed: sub.closed,
        close: async () => {
          this.subscriptions.delete(sub)
          await sub.close()
        },
      }
    })
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return r.flavor.purge(r.ctx, r.name, state)
    })
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    return this.run(async () => {
      const report: WorkerReport = {workers: [], notes: []}
      for (const flavor of FLAVORS) {
        const ctx = this.contexts.get(flavor.kind)
        if (!ctx) continue
        if (!flavor.workers) {
          report.notes.push(`${flavor.kind === 'pgboss' ? 'pg-boss' : flavor.kind} keeps no registry of its workers — its active jobs (inspect: inflight) are the only trace of them`)
          continue
        }
        const found = await flavor.workers(ctx, options)
        report.workers.push(...found.workers)
        report.notes.push(...found.notes)
      }
      // pg-boss alone records nothing: no workers found there is unknown, not 0
      if (!this.contexts.has('graphile')) report.recorded = false
      return report
    })
  }

  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      await r.flavor.create(r.ctx, r.name, options)
    })
  }

  async deleteQueue(queue: string): Promise<void> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      await r.flavor.delete(r.ctx, r.name)
    })
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    return this.run(async () => {
      const r = await this.resolve(queue, false)
      return r.flavor.retry(r.ctx, r.name, options)
    })
  }

  async pause(queue: string): Promise<void> {
    await this.resolve(queue, false)
    throw new NotSupportedError(`${queue}: neither pg-boss nor graphile-worker can pause a queue — stop its workers instead`)
  }

  async resume(queue: string): Promise<void> {
    await this.resolve(queue, false)
    throw new NotSupportedError(`${queue}: neither pg-boss nor graphile-worker can pause or resume a queue`)
  }

  /** The capabilities of the library that holds `queue` (and, for pg-boss, its dead-letter queue). */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    // without a queue: the default flavor's (?flavor=, else the one library found, else pg-boss)
    if (queue === undefined) return (this.defaultFlavor() ?? pgbossFlavor).capabilities
    return this.run(async () => {
      const r = await this.resolve(queue, true)
      return r.flavor.capabilitiesOf ? r.flavor.capabilitiesOf(r.ctx, r.name) : r.flavor.capabilities
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.allSettled([...this.subscriptions].map((s) => s.close()))
    this.subscriptions.clear()
    await this.pool?.end().catch(() => {})
  }
}
