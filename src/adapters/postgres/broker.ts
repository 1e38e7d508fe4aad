// The PostgreSQL Broker: one pool, detection of the job libraries' tables, and the flavor table
// (pgboss, graphile) on the flavored-broker kit (src/broker/kit/flavored.ts), which owns
// `kind:name` addressing and delegation. Here: the pool, which libraries are there, bare names.
import {randomBytes} from 'node:crypto'
import type {Pool} from 'pg'
import {FlavoredBroker, type FlavorHost, type Located} from '../../broker/kit/flavored.js'
import {NotFoundError, UsageError} from '../../kernel/errors.js'
import {connectError, createPool, OrderedClient, toUserError, type Db, type PgTarget} from './connection.js'
import {assertUsable, detect, quoteIdent, type Detected} from './detect.js'
import type {Flavor, FlavorContext} from './flavor.js'
import type {WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {graphileFlavor} from './graphile.js'
import {pgbossFlavor} from './pgboss.js'

/** pg-boss and graphile-worker insert a batch in one statement: its progress is the whole batch. */
function batched(flavor: Flavor): Flavor {
  return {
    ...flavor,
    async enqueue(ctx, name, messages, options) {
      const ids = await flavor.enqueue(ctx, name, messages, options)
      options.onProgress?.(messages.length)
      return options.ids === false ? [] : ids
    },
  }
}

export const FLAVORS: readonly Flavor[] = [pgbossFlavor, graphileFlavor].map(batched)
export const flavorByKind = (kind: string) => FLAVORS.find((f) => f.kind === kind)

export type PostgresBroker = FlavoredBroker<FlavorContext, Flavor>

export function createPostgresFlavoredBroker(displayUrl: string, target: PgTarget, params: URLSearchParams, defaultKind: string | undefined): PostgresBroker {
  return new FlavoredBroker(new PostgresHost(displayUrl, target, params, defaultKind))
}

class PostgresHost implements FlavorHost<FlavorContext, Flavor> {
  readonly transport = 'postgres'
  readonly server = 'PostgreSQL'
  readonly flavors = FLAVORS
  private pool: Pool | undefined
  private ordered: OrderedClient | undefined
  private readonly contexts = new Map<string, FlavorContext>()
  private readonly refusals = new Map<string, Error>()
  private readonly workerId = `queuectl-${randomBytes(6).toString('hex')}`
  private closed = false

  constructor(
    readonly displayUrl: string,
    private readonly target: PgTarget,
    private readonly params: URLSearchParams,
    private readonly defaultKind: string | undefined,
  ) {}

  /** The library a new bare name goes to: ?flavor=, else the only one found. */
  private fallbackFlavor(): Flavor | undefined {
    if (this.defaultKind) return flavorByKind(this.defaultKind)
    const found = this.opened()
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
      inOrder: (text, values, queued) => (this.ordered ??= new OrderedClient(this.target)).query(text, values, queued),
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
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.pool) await this.connect()
    try {
      return await work()
    } catch (error) {
      throw this.wrap(error)
    }
  }

  contextOf(flavor: Flavor): FlavorContext {
    const ctx = this.contexts.get(flavor.kind)
    if (ctx) return ctx
    const refused = this.refusals.get(flavor.kind)
    if (refused) throw refused
    const library = flavor.kind === 'pgboss' ? 'pg-boss' : 'graphile-worker'
    throw new NotFoundError(`no ${library} tables in database "${this.target.database}" on ${this.displayUrl} — start ${library} once against it, or give ?schema= for a non-default schema`)
  }

  /** A bare name: the one library that has it (a name both have is ambiguous). */
  async detect(queue: string): Promise<{found: Located<Flavor>[]}> {
    const found: Located<Flavor>[] = []
    for (const flavor of FLAVORS) {
      const ctx = this.contexts.get(flavor.kind)
      if (ctx && (await flavor.exists(ctx, queue))) found.push({flavor, name: queue})
    }
    return {found}
  }

  absent(queue: string, forWrite: boolean): Flavor | undefined {
    const fallback = this.fallbackFlavor()
    if (forWrite && !fallback) throw new UsageError(`queue "${queue}" does not exist yet on ${this.displayUrl} and both pg-boss and graphile-worker are there — write pgboss:${queue} or graphile:${queue}`)
    return fallback
  }

  async discover(): Promise<{found: Located<Flavor>[]}> {
    const found: Located<Flavor>[] = []
    for (const flavor of this.opened()) {
      for (const name of await flavor.list(this.contexts.get(flavor.kind)!)) found.push({flavor, name})
    }
    return {found}
  }

  /** The libraries found in the database. */
  opened(): Flavor[] {
    return FLAVORS.filter((f) => this.contexts.has(f.kind))
  }

  /** Without a queue: the default flavor's (?flavor=, else the one library found, else pg-boss). */
  defaultFlavor(): Flavor {
    return this.fallbackFlavor() ?? FLAVORS[0]!
  }

  /** graphile-worker's locked_by; pg-boss records no workers (its active jobs are the only trace). */
  async workers(options: WorkersOptions): Promise<WorkerReport> {
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
  }

  async disconnect(): Promise<void> {
    this.closed = true
    await Promise.all([this.pool?.end().catch(() => {}), this.ordered?.end()])
  }
}
