// The Redis Broker: one connection (or Cluster) and the flavor table on the flavored-broker kit
// (src/broker/kit/flavored.ts), which owns `kind:name` addressing and delegation. Here: the
// connection, driver-error mapping, bare-name detection over the flavors' keys, and listing by
// SCAN. Flavors live in ./flavors (see ./flavor.ts).
import {FlavoredBroker, type FlavorHost, type Located} from '../../broker/kit/flavored.js'
import {NotFoundError, isUserError} from '../../kernel/errors.js'
import {connectClient, connectionError, createClient, type RedisClient, type RedisTarget} from './connection.js'
import {KeyClaims, type Flavor, type FlavorContext} from './flavor.js'
import {FLAVORS} from './flavors/index.js'
import {createScanner, DEFAULT_SCAN_BUDGET_MS} from './scan.js'
import type {WorkerReport, WorkersOptions} from '../../broker/contract.js'
import {closeGraceMs, closeWithin} from '../../broker/kit/deadline.js'

export type RedisBroker = FlavoredBroker<FlavorContext, Flavor>

export function createRedisFlavoredBroker(
  displayUrl: string,
  target: RedisTarget,
  params: URLSearchParams,
  timeoutMs: number,
  defaultFlavor: Flavor,
  scanBudgetMs: number = DEFAULT_SCAN_BUDGET_MS,
): RedisBroker {
  return new FlavoredBroker(new RedisHost(displayUrl, target, params, timeoutMs, defaultFlavor, scanBudgetMs))
}

class RedisHost implements FlavorHost<FlavorContext, Flavor> {
  readonly transport = 'redis'
  readonly server = 'Redis'
  readonly flavors = FLAVORS
  readonly closeGraceMs: number
  private readonly client: RedisClient
  private readonly ctx: FlavorContext
  private readonly duplicates = new Set<RedisClient>()

  constructor(
    readonly displayUrl: string,
    private readonly target: RedisTarget,
    params: URLSearchParams,
    private readonly timeoutMs: number,
    private readonly fallback: Flavor,
    private readonly scanBudgetMs: number,
  ) {
    // each close step a short while at most: on a stalled network QUIT never gets its answer
    this.closeGraceMs = closeGraceMs(timeoutMs)
    this.client = createClient(target, timeoutMs)
    this.client.on('error', () => {}) // failures surface as rejected commands
    const host = this
    this.ctx = {
      client: this.client,
      cluster: target.cluster,
      target,
      displayUrl,
      params,
      timeoutMs,
      where: displayUrl,
      get scanner() {
        return createScanner(host.client, host.scanBudgetMs)
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

  contextOf(): FlavorContext {
    return this.ctx
  }

  defaultFlavor(): Flavor {
    return this.fallback
  }

  /** Runs a flavor call, turning driver errors (lost connection, ACL) into one UserError line. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw this.leaseError(error)
    }
  }

  /** A driver error as one UserError line where it is a known kind (lost connection, ACL, wrong type); other errors as they are. */
  leaseError(error: unknown): unknown {
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

  connectionError(error: Error): Error {
    return isUserError(error) ? error : connectionError(error, this.displayUrl, this.target.username)
  }

  /** Every flavor's queue under a bare name: its own probe (or locate), and the keys of another type in the way. */
  async detect(queue: string): Promise<{found: Located<Flavor>[]; inTheWay: string[]}> {
    let found: Located<Flavor>[] = []
    const inTheWay: string[] = []
    for (const flavor of FLAVORS) {
      if (flavor.locate) {
        for (const name of await flavor.locate(this.ctx, queue)) found.push({flavor, name})
        continue
      }
      const probe = await flavor.probe(this.ctx, queue)
      if (probe.exists) found.push({flavor, name: queue})
      else if ('wrongType' in probe) inTheWay.push(`${probe.key} is a ${probe.wrongType}`)
    }
    // A Celery queue IS a list under the same key: the list reading is the same data, less decoded.
    if (found.some((r) => r.flavor.kind === 'celery' && r.name === queue)) {
      found = found.filter((r) => !(r.flavor.kind === 'list' && r.name === queue))
    }
    found.sort((a, b) => `${a.flavor.kind}:${a.name}`.localeCompare(`${b.flavor.kind}:${b.name}`))
    return {found, inTheWay}
  }

  absent(queue: string, forWrite: boolean, inTheWay: readonly string[]): Flavor | undefined {
    if (forWrite) {
      if (inTheWay.length > 0 && this.fallback.kind !== 'bullmq') {
        throw new NotFoundError(`cannot use "${queue}" as a ${this.fallback.kind} queue on ${this.displayUrl}: key ${inTheWay[0]} — pick another name or give the kind (e.g. bullmq:${queue})`)
      }
      return this.fallback
    }
    if (inTheWay.length > 0) {
      throw new NotFoundError(`no queue "${queue}" on ${this.displayUrl}: key ${inTheWay.join(', ')}, not a queue — name a queue, e.g. one from \`queue inspect\``)
    }
    return undefined
  }

  async discover(): Promise<{found: Located<Flavor>[]; incomplete?: string}> {
    const claims = new KeyClaims()
    const scanner = createScanner(this.client, this.scanBudgetMs)
    // start every pass now: they share the budget instead of the last flavor getting none
    const started = FLAVORS.flatMap((f) => f.scans.map((spec) => scanner.scan(spec)))
    started.forEach((p) => p.catch(() => {}))
    const ctx = {...this.ctx, scanner}
    const found: Located<Flavor>[] = []
    let complete = true
    for (const flavor of FLAVORS) {
      const listed = await flavor.discover(ctx, claims)
      complete &&= listed.complete
      for (const name of listed.names) found.push({flavor, name})
    }
    if (complete) return {found}
    return {found, incomplete: `SCAN of ${this.displayUrl} stopped after ${this.scanBudgetMs} ms: queues may be missing — raise ?scanBudgetMs= in the URL, or name the queue as kind:name`}
  }

  /** BullMQ/Bull workers (client names), Sidekiq processes, RQ workers, Celery workers (its inspect mailbox). */
  async workers(options: WorkersOptions): Promise<WorkerReport> {
    // loaded for `queue workers` only (with Celery's inspect mailbox): no other command reads them
    const {redisWorkers} = await import('./workers.js')
    const ctx = this.ctx
    const bullPrefix = ctx.params.get('prefix') ?? (ctx.cluster ? '{bull}' : 'bull')
    const celery = ctx.cluster ? undefined : {db: ctx.target.db, reader: () => ctx.duplicate()}
    return redisWorkers({client: ctx.client, bullPrefix, celery}, options)
  }

  async disconnect(): Promise<void> {
    const disconnectAll = () => {
      for (const copy of this.duplicates) copy.disconnect()
      this.duplicates.clear()
      this.client.disconnect()
    }
    for (const copy of this.duplicates) copy.disconnect()
    this.duplicates.clear()
    await closeWithin(() => this.client.quit(), this.closeGraceMs, disconnectAll)
  }
}
