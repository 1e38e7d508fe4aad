// PostgreSQL connections for a CLI: the `pg` driver imported only here and only when a postgres://
// URL is used, one small pool per broker, and driver errors turned into one UserError line that
// names the cause (never the password).
import {readFileSync} from 'node:fs'
import type {Client, ClientConfig, Pool, PoolClient, PoolConfig, QueryResultRow} from 'pg'
import type {BrokerOptions} from '../../broker/contract.js'
import {ConnectionError, NotFoundError, UsageError, isUserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'
import {wrongPortHint} from '../../broker/descriptor.js'
import {postgresTransport} from './descriptor.js'

export interface PgTarget {
  config: PoolConfig
  database: string
  user: string
}

const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify']

/** Host, credentials, database and TLS from a postgres:// or postgresql:// URL. */
export function targetOf(url: URL, options: BrokerOptions): PgTarget {
  const database = decodeURIComponent(url.pathname.replace(/^\/+/, '')) || 'postgres'
  const user = url.username ? decodeURIComponent(url.username) : (process.env.PGUSER ?? 'postgres')
  const port = url.port ? Number(url.port) : 5432
  const mode = url.searchParams.get('sslmode') ?? (options.tls ? 'require' : 'prefer')
  if (!SSL_MODES.includes(mode)) throw new UsageError(`sslmode=${mode} in the PostgreSQL URL is not one of: ${SSL_MODES.join(', ')}`)
  const config: PoolConfig = {
    host: url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1',
    port,
    user,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    database,
    connectionTimeoutMillis: options.timeoutMs,
    max: 10,
    idleTimeoutMillis: 10_000,
    application_name: 'queuectl',
    ssl: sslOf(mode, options),
  }
  return {config, database, user}
}

// 'prefer' and 'allow' would need a plaintext fallback the driver lacks: they mean no TLS here
function sslOf(mode: string, options: BrokerOptions): PoolConfig['ssl'] {
  if (['disable', 'allow', 'prefer'].includes(mode) && !options.tls) return false
  const ssl: {ca?: Buffer; rejectUnauthorized?: boolean} = {}
  if (options.tls?.caFile) {
    try {
      ssl.ca = readFileSync(options.tls.caFile)
    } catch (error) {
      throw new UsageError(`cannot read --tls-ca ${options.tls.caFile}: ${(error as Error).message}`)
    }
  }
  if (options.tls?.insecure || mode === 'require' || mode === 'no-verify') ssl.rejectUnauthorized = false
  return ssl
}

export async function createPool(target: PgTarget): Promise<Pool> {
  const pg = await import('pg')
  const PoolClass = (pg.default?.Pool ?? (pg as unknown as {Pool: typeof pg.default.Pool}).Pool)
  const pool = new PoolClass(target.config)
  pool.on('error', () => {}) // an idle client that dies is dropped; the next query reports it
  return pool
}

/** A client that pipelines (pg 8.23+): writes in order without a round trip each; connected once, replaced after a failure. */
export class OrderedClient {
  private client: Promise<Client> | undefined

  constructor(private readonly target: PgTarget) {}

  async query<R extends QueryResultRow>(text: string, values: unknown[], queued?: () => void): Promise<R[]> {
    const client = await this.connection()
    const result = client.query<R>(text, values)
    queued?.()
    return (await result).rows
  }

  private connection(): Promise<Client> {
    if (this.client) return this.client
    const opening = this.open()
    this.client = opening
    // a connection that failed, or broke later, is dropped: the next statement opens a new one
    const drop = () => {
      if (this.client === opening) this.client = undefined
    }
    opening.then((client) => client.on('error', drop).on('end', drop), drop)
    return opening
  }

  private async open(): Promise<Client> {
    const pg = await import('pg')
    const ClientClass = pg.default?.Client ?? (pg as unknown as {Client: typeof pg.default.Client}).Client
    const client = new ClientClass({...this.target.config, pipeline: true} as ClientConfig)
    client.on('error', () => {}) // reported to the statements in flight; the next one reconnects
    await client.connect()
    return client
  }

  async end(): Promise<void> {
    const opening = this.client
    this.client = undefined
    const client = await opening?.catch(() => undefined)
    await client?.end().catch(() => {})
  }
}

export interface Db {
  query<R extends QueryResultRow = QueryResultRow>(text: string, values?: unknown[]): Promise<R[]>
  /** A client of its own (LISTEN, transactions); released by the caller. */
  client(): Promise<PoolClient>
  /**
   * On a pipelined connection of its own: statements run in the order given, each its own
   * transaction, the next sent before the last is answered. `queued` is called once this one is
   * queued behind the earlier ones (the caller may send the next: it will run after this one).
   */
  inOrder<R extends QueryResultRow = QueryResultRow>(text: string, values: unknown[], queued?: () => void): Promise<R[]>
}

interface PgError {
  code?: string
  message?: string
  table?: string
  schema?: string
}

const NETWORK = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ETIMEDOUT|timeout|Connection terminated|socket hang up|EPIPE/i

/** A failure to open the first connection: refused, or another kind of server on the port, in words that say what to check. */
export function connectError(error: unknown, where: string, target: PgTarget): Error {
  if (isUserError(error)) return error
  const e = error as PgError
  const text = redactText(String(e?.message ?? error)).split('\n')[0]!
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(text)) {
    return new ConnectionError(`nothing is listening at ${where} (connection refused) — is PostgreSQL running on that host and port (usually ${postgresTransport.server!.port})?`, true)
  }
  // a server that is not PostgreSQL closes on the startup packet
  if (/Connection terminated unexpectedly|ECONNRESET|EPIPE/.test(`${e?.code ?? ''} ${text}`)) {
    return new ConnectionError(`${where} closed the connection during the PostgreSQL handshake — ${wrongPortHint(postgresTransport.server!)}, or PostgreSQL is restarting`, true)
  }
  return toUserError(error, where, target)
}

/** Turns a driver error into a UserError (or returns it unchanged when it is not one we know). */
export function toUserError(error: unknown, where: string, target: PgTarget): Error {
  if (isUserError(error)) return error
  const e = error as PgError
  const text = redactText(String(e?.message ?? error)).split('\n')[0]!
  switch (e?.code) {
    case '28P01':
    case '28000':
      return new ConnectionError(`cannot log in to ${where} as "${target.user}": ${text} — check the user and password in the URL`)
    case '3D000':
      return new NotFoundError(`database "${target.database}" does not exist on ${where} — create it, or name another database in the URL path`)
    case '42501':
      return new ConnectionError(`${text} on ${where}: role "${target.user}" lacks that privilege — GRANT it (e.g. SELECT, INSERT, UPDATE, DELETE on the job tables), or use a role that has it`)
    case '57P01':
    case '57P03':
    case '08006':
    case '08001':
    case '08004':
      return new ConnectionError(`PostgreSQL at ${where} is not accepting connections: ${text}`, true)
    case '53300':
      return new ConnectionError(`PostgreSQL at ${where} has too many connections: ${text}`, true)
  }
  // a SQLSTATE is five characters; Node's socket errors (ECONNREFUSED…) are not
  if (typeof e?.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return error as Error
  if (/self.signed|certificate|SSL|TLS/i.test(text)) {
    return new ConnectionError(`TLS to ${where} failed: ${text} — ?sslmode=disable for a server without TLS, or --tls-ca FILE`)
  }
  if (NETWORK.test(`${e?.code ?? ''} ${text}`)) return new ConnectionError(`cannot connect to PostgreSQL at ${where}: ${text}`, true)
  return error as Error
}
