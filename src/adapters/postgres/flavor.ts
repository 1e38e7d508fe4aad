// The Flavor interface: how one job library's tables in PostgreSQL (pg-boss, graphile-worker) plug
// into the PostgreSQL adapter. The broker (broker.ts) owns the pool, detection and bare names, the
// flavored-broker kit `kind:name` addressing and delegation; a flavor owns its own tables.
//
// Rules every flavor follows:
// - Queue names passed in are WITHOUT the `kind:` prefix (`emails`, not `pgboss:emails`).
// - Reads are plain SELECTs (no locks a worker would wait on); writes use the library's own SQL
//   (its functions, or the statements its source runs), so its workers see what they expect.
// - A queue that does not exist → NotFoundError (exit 4).
import type {
  ConsumeOptions,
  EnqueueOptions,
  LeaseHandler,
  OutgoingMessage,
  RetryOptions,
  Subscription,
  QueueOptions,
  WorkerReport,
  WorkersOptions,
} from '../../broker/contract.js'
import type {Db} from './connection.js'
import type {Flavor as KitFlavor} from '../../broker/kit/flavored.js'

/** What a flavor gets to work with: one per broker and library. */
export interface FlavorContext {
  readonly db: Db
  /** The library's schema, already quoted for SQL (`"pgboss"`). */
  readonly schema: string
  /** Its schema version (pg-boss version table, graphile-worker's last migration). */
  readonly version: number
  /** Redacted URL, for messages. */
  readonly displayUrl: string
  readonly params: URLSearchParams
  /** Unique per broker: the prefix of the worker ids our leases are taken under. */
  readonly workerId: string
  /** Driver errors → the UserError the user should see. */
  wrap(error: unknown): Error
}

/** A job library: the kit's flavor (src/broker/kit/flavored.ts) with the operations both libraries have, plus how its queues are found. */
export interface Flavor extends KitFlavor<FlavorContext> {
  /** Every queue of this library (names without the kind). */
  list(ctx: FlavorContext): Promise<string[]>
  exists(ctx: FlavorContext, name: string): Promise<boolean>
  /** Creates the queue when it does not exist yet (the library's own way). */
  enqueue(ctx: FlavorContext, name: string, messages: OutgoingMessage[], options: EnqueueOptions): Promise<string[]>
  consume(ctx: FlavorContext, name: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription>
  /** `options`: the settings `queue create` was given (descriptor createOptions); a flavor without them refuses any. */
  create(ctx: FlavorContext, name: string, options?: QueueOptions): Promise<void>
  delete(ctx: FlavorContext, name: string): Promise<void>
  retry(ctx: FlavorContext, name: string, options: RetryOptions): Promise<number>
  /** The workers the library records (graphile-worker's locked_by); absent: it records none. */
  workers?(ctx: FlavorContext, options: WorkersOptions): Promise<WorkerReport>
}
