// The RabbitMQ management HTTP API (rabbitmq_management, :15672), through node:http. Optional:
// without it we cannot list queues, count unacked messages, show rates or find a queue's DLQ, and
// the adapter declares so. Its numbers come from periodic stats (collect_statistics_interval, 5 s
// by default), so they lag the broker by up to that long.
import {request as httpRequest, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {ConnectionError, NotFoundError} from '../../kernel/errors.js'
import {redactText} from '../../kernel/redact.js'

export interface MgmtQueue {
  name: string
  vhost: string
  type?: string
  durable?: boolean
  messages?: number
  messages_ready?: number
  messages_unacknowledged?: number
  consumers?: number
  arguments?: Record<string, unknown>
  effective_policy_definition?: Record<string, unknown>
  policy?: string | null
  message_stats?: {
    publish_details?: {rate: number}
    deliver_get_details?: {rate: number}
    ack_details?: {rate: number}
  }
  head_message_timestamp?: number | null
}

export interface MgmtBinding {
  source: string
  destination: string
  destination_type: string
  routing_key: string
}

/** The management API turned the credentials down (401, or 403 for a user without access). */
export class MgmtRefusedError extends ConnectionError {
  constructor(
    readonly base: string,
    readonly status: number,
  ) {
    super(`the management API at ${base} refused the credentials (HTTP ${status}) — check the user and password, and that the user has the "monitoring" or "management" tag`)
  }
}

export class MgmtClient {
  private readonly auth: string
  constructor(
    readonly base: string,
    username: string,
    password: string,
    private readonly vhost: string,
    private readonly timeoutMs: number,
  ) {
    this.auth = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  }

  private path(...parts: string[]): string {
    return parts.map((p) => encodeURIComponent(p)).join('/')
  }

  private async request(path: string, timeoutMs = this.timeoutMs): Promise<{status: number; body: string}> {
    try {
      return await getText(`${this.base}/api/${path}`, {authorization: this.auth}, timeoutMs)
    } catch (error) {
      const cause = (error as Error).name === 'TimeoutError' ? 'timed out' : redactText(String((error as Error).message))
      throw new ConnectionError(
        `the management API at ${this.base} did not answer (${cause}) — enable it with rabbitmq-plugins enable rabbitmq_management, or point --mgmt-url at it`,
      )
    }
  }

  private async json<T>(path: string, timeoutMs?: number): Promise<T> {
    const res = await this.request(path, timeoutMs)
    if (res.status === 404) throw new NotFoundError(`${path} not found on the management API at ${this.base}`)
    if (res.status === 401 || res.status === 403) throw new MgmtRefusedError(this.base, res.status)
    if (res.status < 200 || res.status > 299) throw new ConnectionError(`management API at ${this.base} answered ${res.status} for ${path}`)
    return JSON.parse(res.body) as T
  }

  /** The server's version and exchange types, or why the API is unusable (one line). */
  async probe(timeoutMs: number): Promise<{version: string; exchangeTypes: string[]} | {problem: Error}> {
    try {
      const o = await this.json<{rabbitmq_version: string; exchange_types: {name: string}[]}>('overview', timeoutMs)
      return {version: o.rabbitmq_version, exchangeTypes: o.exchange_types.map((e) => e.name)}
    } catch (error) {
      return {problem: error as Error}
    }
  }

  listQueues(): Promise<MgmtQueue[]> {
    return this.json<MgmtQueue[]>(`queues/${this.path(this.vhost)}?columns=name,vhost,type,messages,messages_ready,messages_unacknowledged,consumers`)
  }

  queue(name: string): Promise<MgmtQueue> {
    return this.json<MgmtQueue>(`queues/${this.path(this.vhost, name)}`)
  }

  bindingsFrom(exchange: string): Promise<MgmtBinding[]> {
    return this.json<MgmtBinding[]>(`exchanges/${this.path(this.vhost, exchange)}/bindings/source`)
  }

  exchangeType(exchange: string): Promise<string> {
    return this.json<{type: string}>(`exchanges/${this.path(this.vhost, exchange)}`).then((e) => e.type)
  }

  /** Every consumer of the vhost, with its channel and queue (`queue workers`). */
  consumers(): Promise<MgmtConsumer[]> {
    return this.json<MgmtConsumer[]>(`consumers/${this.path(this.vhost)}`)
  }

  channels(): Promise<{name: string; messages_unacknowledged?: number; consumer_count?: number}[]> {
    return this.json(`vhosts/${this.path(this.vhost)}/channels?columns=name,messages_unacknowledged,consumer_count`)
  }

  connections(): Promise<{name: string; connected_at?: number; client_properties?: Record<string, unknown>}[]> {
    return this.json(`vhosts/${this.path(this.vhost)}/connections?columns=name,connected_at,client_properties`)
  }
}

export interface MgmtConsumer {
  consumer_tag: string
  queue: {name: string}
  prefetch_count?: number
  ack_required?: boolean
  active?: boolean
  exclusive?: boolean
  channel_details?: {name?: string; connection_name?: string; peer_host?: string; peer_port?: number; user?: string}
}

/**
 * GET `url`: its status and body, or a rejection (name 'TimeoutError' past `timeoutMs`, headers
 * and body included). node:http, not fetch: fetch loads undici, ~50 ms of CPU at every start.
 */
function getText(url: string, headers: Record<string, string>, timeoutMs: number): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest
    const req = send(url, {method: 'GET', headers})
    let late: Error | undefined
    const timer = setTimeout(() => {
      late = new Error(`no answer within ${timeoutMs} ms`)
      late.name = 'TimeoutError'
      req.destroy(late)
    }, timeoutMs)
    const fail = (error: Error) => {
      clearTimeout(timer)
      reject(late ?? error)
    }
    req.on('error', fail)
    req.on('response', (res: IncomingMessage) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('error', fail)
      // a body cut short (the socket closed mid-way) ends here, not at 'end'
      res.on('close', () => (res.complete ? undefined : fail(new Error('the answer was cut short'))))
      res.on('end', () => {
        clearTimeout(timer)
        resolve({status: res.statusCode ?? 0, body})
      })
    })
    req.end()
  })
}
