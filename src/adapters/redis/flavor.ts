// The Flavor interface: how one queue layout on Redis (a plain list, a Stream, BullMQ, Bull,
// Bee-Queue, Celery, Sidekiq, RQ, asynq) plugs into the Redis adapter.
//
// The adapter (broker.ts) owns the connection and bare-name detection, the flavored-broker kit
// (src/broker/kit/flavored.ts) `kind:name` addressing and delegation; a flavor owns everything
// about its own keys. To add a flavor:
//   1. put its detection half in src/adapters/redis/flavors/detect.ts: a `FlavorFinder` (kind,
//      description, capabilities, scans, probe, discover, optional locate) and the key helpers
//      they need — it loads at every start, so nothing heavy there;
//   2. write src/adapters/redis/flavors/<kind>.ts exporting a `Flavor` that spreads the finder and
//      adds the operations (stats, peek, enqueue…), loaded only when a queue of this kind is used;
//   3. add it to the table in src/adapters/redis/flavors/index.ts as `lazyFlavor(finder, load)`
//      (order matters only for `discover`: a key claimed by an earlier flavor is not offered to
//      later ones — put specific layouts such as celery before the catch-all `list`);
//   4. run the contract suite on it: test/contract/redis-<kind>.test.ts with ?flavor=<kind>.
//
// Rules every flavor follows:
// - Queue names passed in are WITHOUT the `kind:` prefix (`emails`, not `bullmq:emails`).
// - Never use KEYS; walk the keyspace only through `ctx.scan` (bounded by the detection budget).
// - Key layouts must work on Redis Cluster: commands and Lua scripts that touch several keys
//   must keep them in one hash slot (see `auxKey`), and `ctx.scan` already walks every master.
// - A queue that does not exist → `NotFoundError` (exit 4); a key of the wrong type where the
//   queue should be → `NotFoundError` that names the type it found (`probe` returns `wrongType`).
// - A stored item that cannot be decoded is still listed, with `Message.undecodable` set.
// - Job libraries with their own scripts (BullMQ) are driven through the library, never by
//   writing their keys by hand; reading raw keys to show an undecodable item is fine.
// - Heavy libraries are imported lazily (`await import('bullmq')`) inside the flavor.
import type {RedisClient, RedisTarget} from './connection.js'
import {DRIVEN_QUEUE} from '../../broker/capabilities.js'
import type {Flavor as KitFlavor} from '../../broker/kit/flavored.js'

/** One SCAN pass: MATCH pattern and/or TYPE filter (done server-side). */
/** Every flavor: Redis acknowledges each write (always "confirmed"); whether it reaches disk is the server's appendonly/save configuration. */
export const REDIS_PUBLISH = {persistent: 'server', confirms: 'always'} as const

/** What every Redis flavor shares: SCAN lists its queues, reads are exact, each write is acknowledged, nothing lives in this process, no groups or rates. */
export const REDIS_FLAVOR = {listQueues: true, peek: 'exact', rates: false, groups: false, publish: REDIS_PUBLISH, inProcess: false} as const

/** A layout queuectl drives itself (list, stream, BullMQ, Bull, Bee-Queue): leases that expire and extend, dead letters kept in the queue. */
export const DRIVEN_REDIS = {...DRIVEN_QUEUE, deadLetter: 'state', leaseExpiry: true} as const

/** A job library's queue its own workers consume (Celery, Sidekiq, RQ, asynq): queuectl reads, enqueues and revives, but takes no leases. */
export const LIBRARY_WORKERS = {deadLetter: false, leaseExpiry: false, extend: false, consume: false} as const

export interface ScanSpec {
  match?: string
  type?: 'list' | 'stream' | 'hash' | 'set' | 'zset' | 'string'
}

/** Finds keys by pattern and/or type across every master, within the detection budget. */
export interface KeyScanner {
  /**
   * Calls SCAN … MATCH pattern TYPE type COUNT 1000 on every master until done or the budget runs
   * out. Returns the keys found (deduplicated) and whether the walk was cut short. The same spec
   * twice in one operation is scanned once.
   */
  scan(options: ScanSpec): Promise<{keys: string[]; complete: boolean}>
}

/** Keys already explained by a flavor during discovery (so `bull:emails:wait` is not also a list). */
export class KeyClaims {
  private readonly keys = new Set<string>()
  private readonly prefixes = new Set<string>()
  claimKey(key: string): void {
    this.keys.add(key)
  }
  /** Claims every key that starts with `prefix`. */
  claimPrefix(prefix: string): void {
    this.prefixes.add(prefix)
  }
  isClaimed(key: string): boolean {
    if (this.keys.has(key)) return true
    for (const p of this.prefixes) if (key.startsWith(p)) return true
    return false
  }
}

/** What a flavor gets to work with. One per broker; shared by every call. */
export interface FlavorContext {
  /** The command connection (a Redis or a Cluster). Do not block on it: use `duplicate()` for BLOCK/XREADGROUP. */
  readonly client: RedisClient
  readonly cluster: boolean
  readonly target: RedisTarget
  /** Redacted URL, for messages. */
  readonly displayUrl: string
  /** URL query parameters (`prefix`, `group`, `leaseMs`…): flavors read their own. */
  readonly params: URLSearchParams
  readonly timeoutMs: number
  readonly scanner: KeyScanner
  /** A new connected connection with the same settings (blocking reads, library workers). Closed by the caller. */
  duplicate(): Promise<RedisClient>
  /** Called when a consumer's connection fails, so the broker can surface it. */
  readonly where: string
}

/** The result of asking a flavor whether a queue of its kind exists under a name. */
export type Probe =
  | {exists: true}
  | {exists: false}
  /** A key is where the queue would be, but of another type: `hash`, `string`… */
  | {exists: false; wrongType: string; key: string}

/** A Redis layout: the kit's flavor (src/broker/kit/flavored.ts) plus how its keys are found. */
export interface Flavor extends KitFlavor<FlavorContext> {
  /**
   * The SCAN passes `discover` will ask for. The broker starts every flavor's passes at once so
   * they share the time budget fairly; `discover` then gets the same results from `ctx.scanner`.
   */
  readonly scans: readonly ScanSpec[]

  /**
   * Every queue of this flavor (names without the kind). `claims` holds the keys earlier flavors
   * own (skip those); add the keys and key prefixes yours own, so later flavors skip them.
   */
  discover(ctx: FlavorContext, claims: KeyClaims): Promise<{names: string[]; complete: boolean}>
  /** Cheap check (a few round trips) whether `name` is a queue of this flavor. */
  probe(ctx: FlavorContext, name: string): Promise<Probe>
  /**
   * Optional: every queue of this flavor a bare name could mean, when that needs more than
   * `probe` (BullMQ queues under other prefixes: `emails` → `myapp:emails`). Uses `ctx.scanner`.
   */
  locate?(ctx: FlavorContext, name: string): Promise<string[]>
}

/**
 * A helper key that lands in the same Cluster hash slot as `key`: `{jobs}:processing` for `jobs`,
 * and `a{b}c:processing` for a key that already has a hash tag.
 */
export function auxKey(key: string, suffix: string): string {
  const open = key.indexOf('{')
  const close = open >= 0 ? key.indexOf('}', open + 1) : -1
  if (open >= 0 && close > open + 1) return `${key}:${suffix}`
  return `{${key}}:${suffix}`
}

/** The main key an aux key belongs to, when `key` looks like one made by `auxKey` with `suffix`. */
export function mainKeyOf(key: string, suffix: string): string | undefined {
  if (!key.endsWith(`:${suffix}`)) return undefined
  const head = key.slice(0, -suffix.length - 1)
  if (head.startsWith('{') && head.endsWith('}') && head.indexOf('}') === head.length - 1) return head.slice(1, -1)
  if (/\{[^}]+\}/.test(head)) return head
  return undefined
}
