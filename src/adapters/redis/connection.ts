// Redis connections for a CLI: fail fast instead of ioredis's retry-forever defaults, and turn
// driver errors into one ConnectionError line that names the cause (never the password).
import {readFileSync} from 'node:fs'
import {Cluster, Redis, type RedisOptions} from 'ioredis'
import type {BrokerOptions} from '../../broker/contract.js'
import {ConnectionError, NotFoundError, UsageError, type UserError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'
import {OUTAGE_BACKOFF, backoffDelay} from '../../kernel/backoff.js'
import {wrongPortHint} from '../../broker/descriptor.js'
import {redisTransport} from './descriptor.js'

export type RedisClient = Redis | Cluster

export interface RedisTarget {
  cluster: boolean
  seeds: {host: string; port: number}[]
  username?: string
  password?: string
  db: number
  tls?: RedisOptions['tls']
}

/** Reads host(s), credentials, db and TLS from a redis://, rediss:// or redis+cluster:// URL. */
export function targetOf(url: URL, options: BrokerOptions): RedisTarget {
  const cluster = url.protocol === 'redis+cluster:'
  const defaultPort = 6379
  const seeds = [url.host, ...(url.searchParams.get('seeds')?.split(',') ?? [])]
    .filter(Boolean)
    .map((hp) => {
      const at = hp.lastIndexOf(':')
      const host = at > 0 && !hp.endsWith(']') ? hp.slice(0, at) : hp
      const port = at > 0 && !hp.endsWith(']') ? Number(hp.slice(at + 1)) : defaultPort
      if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`bad port in "${hp}" — write host:port`)
      return {host: host.replace(/^\[|\]$/g, '') || '127.0.0.1', port}
    })
  if (seeds.length === 0) seeds.push({host: '127.0.0.1', port: defaultPort})
  const dbText = url.pathname.replace(/^\/+/, '') || url.searchParams.get('db') || '0'
  const db = Number(dbText)
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`database "${dbText}" in the Redis URL must be a number such as /0`)
  if (cluster && db !== 0) throw new UsageError('Redis Cluster has only database 0 — drop the /N from the redis+cluster:// URL')
  const wantsTls = url.protocol === 'rediss:' || url.searchParams.get('tls') === 'true'
  let tls: RedisOptions['tls']
  if (wantsTls || options.tls) {
    tls = {}
    if (options.tls?.caFile) {
      try {
        tls.ca = readFileSync(options.tls.caFile)
      } catch (error) {
        throw new UsageError(`cannot read --tls-ca ${options.tls.caFile}: ${(error as Error).message}`)
      }
    }
    if (options.tls?.insecure) tls.rejectUnauthorized = false
  }
  return {
    cluster,
    seeds,
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db,
    tls,
  }
}

// ioredis writes some warnings with console.warn, several lines with its wiki links: an ACL user
// without INFO gets "Skipping the ready check" (harmless: connectClient PINGs), and a password the
// server does not need is told once, in one line of ours. Anything else passes through.
let toldNoPassword = false
const consoleWarn = console.warn.bind(console)
console.warn = (...args: unknown[]) => {
  const text = String(args[0] ?? '')
  if (text.startsWith('Skipping the ready check')) return
  if (/does not require a password, but a password was supplied/.test(text)) {
    if (!toldNoPassword) process.stderr.write('warning: this Redis server needs no password — the one given in the URL was ignored\n')
    toldNoPassword = true
    return
  }
  consoleWarn(...args)
}

/** Options every connection shares: no endless retries, no offline queue, connect when told. */
function baseOptions(target: RedisTarget, timeoutMs: number): RedisOptions {
  return {
    username: target.username,
    password: target.password,
    db: target.db,
    tls: target.tls,
    connectTimeout: timeoutMs,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableReadyCheck: true,
  }
}

export function createClient(target: RedisTarget, timeoutMs: number, extra: RedisOptions = {}): RedisClient {
  const options = {...baseOptions(target, timeoutMs), ...extra}
  if (!target.cluster) {
    const seed = target.seeds[0]!
    return new Redis({...options, host: seed.host, port: seed.port})
  }
  const {retryStrategy: _r, enableOfflineQueue: _o, db: _db, ...redisOptions} = options
  return new Cluster(target.seeds, {
    redisOptions,
    lazyConnect: true,
    enableOfflineQueue: false,
    clusterRetryStrategy: () => null,
    slotsRefreshTimeout: timeoutMs,
    maxRedirections: 16,
    enableReadyCheck: true,
  })
}

/** The master nodes to SCAN: every master on a cluster, the one server otherwise. */
export function scanNodes(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client]
}

const WRITES = /^(eval|evalsha|fcall|multi|exec|script|set|setnx|setex|psetex|mset|del|unlink|expire|pexpire|persist|rename|hset|hmset|hsetnx|hdel|hincrby|lpush|rpush|lpop|rpop|lrem|lset|ltrim|lmove|blmove|rpoplpush|brpoplpush|brpop|blpop|sadd|srem|smove|zadd|zrem|zincrby|zpopmin|zpopmax|bzpopmin|zremrangebyscore|xadd|xack|xdel|xtrim|xgroup|xclaim|xautoclaim|xreadgroup|publish)$/i

function isWriteCommand(command: string): boolean {
  return WRITES.test(command)
}

/** One line for a driver error: refused, auth, ACL, TLS, timeout — the cause and what to do. */
export function connectionError(error: unknown, where: string, username?: string): UserError {
  const err = error as NodeJS.ErrnoException & {message?: string}
  const message = redactText(String(err?.message ?? error))
  const code = err?.code ?? ''
  const who = username ? `user "${username}"` : 'the default user'
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return new ConnectionError(`cannot connect to ${where}: connection refused — is Redis running and listening on that port?`, true)
  }
  const resp = /Unknown RESP type (\d+)|Protocol error/i.exec(message)
  if (resp) return new ConnectionError(`${where} answered in another protocol${otherProtocol(Number(resp[1]))} — is this the Redis port?`)
  if (/WRONGPASS|invalid username-password|invalid password/i.test(message)) {
    return new ConnectionError(`authentication failed at ${where} for ${who}: wrong user name or password — fix the credentials in the URL`)
  }
  if (/NOAUTH/i.test(message)) {
    return new ConnectionError(`authentication required at ${where} — put the password in the URL: redis://user:PASSWORD@host:port`)
  }
  const denied = /NOPERM[^']*'([^']+)'/i.exec(message)
  if (denied || /NOPERM/i.test(message)) {
    const what = denied ? `the "${denied[1]}" command` : /\bkey/i.test(message) ? 'access to a key' : /channel/i.test(message) ? 'access to a channel' : 'a command or key'
    const user = username ?? 'default'
    // a write needs the write categories, not one command at a time; no read needs a script or a transaction
    if (denied && isWriteCommand(denied[1]!)) return new ConnectionError(`${where} refused ${what} for ${who} (ACL NOPERM): this command writes — to let it, ACL SETUSER ${user} +@write +@scripting +@transaction; read-only commands (inspect, top, metrics, wait, export, --dry-run) need only +@read +@connection +info +ping`)
    // without a command name it is a key (or channel) pattern the user lacks, not a command
    const grant = denied ? `+${denied[1]}` : /channel/i.test(message) ? "'&*' (the channels)" : "'~*' (or the key pattern of these queues)"
    return new ConnectionError(`${where} refused ${what} for ${who} (ACL NOPERM) — grant it, e.g. ACL SETUSER ${user} ${grant}, or use another user`)
  }
  if (/SSL|TLS|certificate|wrong version number|EPROTO|packet length|secure TLS connection/i.test(message)) {
    return new ConnectionError(`TLS handshake with ${where} failed (${message.split('\n')[0]}) — is that a TLS port? use redis:// for a plain one, or --tls-ca for a private CA`)
  }
  if (/ETIMEDOUT|timed? ?out/i.test(message)) {
    return new ConnectionError(`could not connect to ${where}: timed out — is the host reachable? (raise --timeout if it is slow)`, true)
  }
  if (/ENOTFOUND|EAI_AGAIN/.test(code + message)) {
    return new ConnectionError(`cannot resolve the host of ${where} — check the host name`)
  }
  if (/max retries per request/i.test(message)) {
    // ioredis's words for "the connection dropped while this command was in flight"
    return new ConnectionError(`lost the connection to ${where} mid-command — is Redis still running? (the command may or may not have been applied)`, true)
  }
  if (/Connection is closed|connection closed|ECONNRESET|EPIPE|Stream isn't writeable|enableOfflineQueue/i.test(message)) {
    return new ConnectionError(`lost the connection to ${where} (${message.split('\n')[0]}) — is Redis still running?`, true)
  }
  if (/CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes/i.test(message)) {
    return new ConnectionError(`Redis Cluster at ${where} is not usable (${message.split('\n')[0]}) — check the seed nodes and cluster state`, true)
  }
  if (/^LOADING\b/.test(message)) {
    return new ConnectionError(`${where} is loading its data set after a restart — try again in a moment`, true)
  }
  return new ConnectionError(`cannot talk to ${where}: ${message.split('\n')[0]}`)
}

/** A guess at the protocol from the first byte a non-Redis server sent: "HTTP/1.1", NATS's "INFO {…}". */
function otherProtocol(firstByte: number): string {
  const guess = ({72: 'HTTP', 73: 'NATS', 65: 'AMQP'} as Record<number, string>)[firstByte]
  return guess ? ` (${guess}?)` : ''
}

/** True when an error means the connection (not the command) failed: worth retrying once Redis is back. */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof ConnectionError) return error.transient
  const message = String((error as Error)?.message ?? error)
  return /ECONNREFUSED|ECONNRESET|EPIPE|Connection is closed|connection closed|Stream isn't writeable|enableOfflineQueue|max retries|CLUSTERDOWN|ETIMEDOUT|^LOADING\b/i.test(
    message,
  )
}

/** Connects and PINGs within the timeout; on any failure disconnects and throws one ConnectionError. */
export async function connectClient(client: RedisClient, timeoutMs: number, where: string, username?: string, tls = false): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const lastError: {error?: unknown} = {}
  const onError = (error: unknown) => (lastError.error = error)
  client.on('error', onError)
  client.on('node error', onError)
  try {
    const timeout = new Promise<never>((_, reject) => {
      // a little under the caller's own deadline, so this (more specific) message wins the race
      timer = setTimeout(() => reject(lastError.error ?? new Error('connect timed out')), Math.max(50, timeoutMs - 100))
      timer.unref()
    })
    await Promise.race([
      (async () => {
        if (client.status === 'wait') await client.connect()
        await client.ping()
      })(),
      timeout,
    ])
    // Connected: from now on a dropped connection is retried in the background (long-running
    // commands such as top and metrics recover by themselves); commands still fail at once while
    // it is down (no offline queue), and close() stops the retries. Re-dials back off as the consume loop does.
    const reconnect = (times: number) => backoffDelay(times, OUTAGE_BACKOFF)
    if (client instanceof Cluster) client.options.clusterRetryStrategy = reconnect
    else client.options.retryStrategy = reconnect
  } catch (error) {
    client.disconnect()
    if (tls && /timed out|ETIMEDOUT/.test(String((error as Error)?.message))) {
      // a plain port never answers a TLS ClientHello: the handshake just hangs
      throw new ConnectionError(`TLS handshake with ${where} did not complete within ${timeoutMs} ms — is that a TLS port? use redis:// for a plain one`)
    }
    const cause = /Connection is closed|None of startup nodes|Failed to refresh/i.test(String((error as Error)?.message)) && lastError.error ? lastError.error : error
    const closed = /Connection is closed|connection closed|ECONNRESET|EPIPE/i.test(String((cause as Error)?.message))
    // closed before the first PING was answered: not a Redis, or one still starting
    if (closed && !(client instanceof Cluster)) throw new ConnectionError(`${where} closed the connection before answering PING — ${wrongPortHint(redisTransport.server!)}, or Redis is restarting`, true)
    throw connectionError(cause, where, username)
  } finally {
    clearTimeout(timer)
  }
  await checkDatabase(client, where)
}

/**
 * ioredis sends SELECT db on every (re)connect but only emits an 'error' when the server refuses
 * it, and the connection then silently stays on db 0: ask again and refuse loudly instead.
 */
async function checkDatabase(client: RedisClient, where: string): Promise<void> {
  if (client instanceof Cluster) return
  const db = client.options.db ?? 0
  if (db === 0) return
  let refusal: UserError | undefined
  try {
    await client.select(db)
    return
  } catch (error) {
    const message = String((error as Error)?.message ?? error)
    if (/not allowed in cluster mode/i.test(message)) {
      refusal = new UsageError(`${where} is a Redis Cluster node, and a cluster has only database 0 — drop the /${db}, or use redis+cluster:// for the cluster`)
    } else if (/out of range|invalid DB index/i.test(message)) {
      refusal = new NotFoundError(`${where}: ${await databaseCount(client, db)} — pick one of them`)
    } else refusal = connectionError(error, where)
  }
  client.disconnect()
  throw refusal
}

/** "the server has 16 databases (0–15)", from CONFIG GET when the user may run it. */
async function databaseCount(client: Redis, db: number): Promise<string> {
  try {
    const reply = (await client.config('GET', 'databases')) as string[]
    const n = Number(reply[1])
    if (Number.isInteger(n) && n > 0) return `the server has ${n} database${n === 1 ? '' : 's'} (0–${n - 1})`
  } catch {
    // CONFIG may be renamed or refused by an ACL: say what we know
  }
  return `the server has no database ${db} (it refuses SELECT ${db})`
}
