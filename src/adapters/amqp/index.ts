// amqp:// and amqps:// — RabbitMQ over AMQP 0-9-1 (amqplib), with the management HTTP API when it
// answers (listing, unacked counts, rates, dead-letter queues). URL options: see config.ts.
// amqplib does not reconnect: when the connection drops (not by our close), calls fail at once with
// a transient ConnectionError and the connection is dialled again in the background, backing off
// with jitter, until it is back, a login is refused, or close(); subscriptions wait for it (see
// consume.ts) and the next enqueue opens a new confirm channel.
import amqp, {type Channel, type ChannelModel, type ConfirmChannel, type Replies} from 'amqplib'
import type {
  AdapterBroker,
  BrokerFactory,
  Capabilities,
  ConsumeOptions,
  EnqueueOptions,
  LeaseHandler,
  Message,
  MessageState,
  OutgoingMessage,
  PeekOptions,
  QueueOptions,
  QueueRef,
  QueueStats,
  Subscription,
  WorkerReport,
  WorkersOptions,
} from '../../broker/contract.js'
import {closeGraceMs, closeWithin, within} from '../../broker/kit/deadline.js'
import {INSPECT_WAIT_MS} from '../formats/celery-inspect.js'
import {ConnectionError, NotSupportedError, isTransient, isUserError} from '../../kernel/errors.js'
import {REDIAL_BACKOFF, backoffDelay, sleep} from '../../kernel/backoff.js'
import {publishAttemptCopy, type AttemptCopier} from './attempts.js'
import {amqpCapabilities, queueCapabilities} from './capabilities.js'
import {endpointUrl, parseAmqpConfig, type AmqpConfig} from './config.js'
import {startConsumer, type DeadLetterSink} from './consume.js'
import {deadLetterSink, resolveDeadLetterRoute} from './deadletter.js'
import {checkPriorities, prepareMessages} from './enqueue.js'
import {toMessage} from './envelope.js'
import {channelError, connectionError, replyText} from './errors.js'
import {MgmtClient, MgmtRefusedError, type MgmtQueue} from './mgmt.js'
import {publishConfirmed, publishUnconfirmed, type PublishTarget} from './publish.js'
import {DELAYED_EXCHANGE, ensureDelayedBinding} from './delay.js'
import {NATIVE_DELAY_EXCHANGE, nativeDelayRoutingKey, nativeDelayTargets, nativeDelayedCount, type NativeDelayTarget} from './celery-delay.js'
import {coalesceWrites} from './socket.js'
import {declarationOf} from './declare.js'
import {amqpWorkers} from './workers.js'
import {celeryWorkersOverAmqp} from './celery-inspect.js'

let connectionSeq = 0

type Publisher = {channel: Promise<ConfirmChannel>; reason?: string}

/** How far behind the management API's counts can be: collect_statistics_interval (5 s) plus slack. */
const STATS_LAG_MS = 6000

export class AmqpBroker implements AdapterBroker {
  readonly transport = 'amqp'
  readonly displayUrl: string
  /** client-provided connection name, as the management UI shows it. */
  readonly connectionName = `queuectl pid=${process.pid} #${++connectionSeq}`
  /** What connect() found out: the management API answers; the delayed-message exchange type exists. */
  private facts = {mgmt: false, delayedExchange: false}
  serverVersion?: string
  private conn?: ChannelModel
  private mgmt?: MgmtClient
  private pub?: Publisher
  private plainPub?: Publisher
  private readonly subscriptions = new Set<Subscription>()
  private closing = false
  private lost?: Error
  /** The background re-dial after a lost connection, while it runs. */
  private reopening?: Promise<void>
  private blocked?: string
  /** Why the management API is not used, when it is not. */
  private mgmtProblem?: Error
  /** When this broker last changed a queue's unacked set (delivery, settle, peek). */
  private readonly touched = new Map<string, number>()
  private nativeTargetsSeen?: {at: number; targets: Promise<NativeDelayTarget[] | undefined>}
  /** Queues found on this connection: enqueue checks a queue once, then relies on mandatory publishing (basic.return) to notice it gone. */
  private readonly found = new Set<string>()

  constructor(private readonly config: AmqpConfig) {
    this.displayUrl = config.displayUrl
  }

  /** The broker's own capabilities, from what connect() found. */
  private brokerCapabilities(): Capabilities {
    return amqpCapabilities({queueType: this.config.queueType, ...this.facts, maxMessageBytes: this.config.maxMessageBytes, flavor: this.config.flavor})
  }

  /** Opens a connection to the first endpoint that takes it. */
  private async dial(): Promise<ChannelModel> {
    const c = this.config
    let last: unknown
    for (const ep of c.endpoints) {
      const where = endpointUrl(c.displayUrl, ep)
      try {
        return await amqp.connect(
          {protocol: c.tls ? 'amqps' : 'amqp', hostname: ep.host, port: ep.port, username: c.username, password: c.password, vhost: c.vhost, heartbeat: c.heartbeat, frameMax: c.frameMax},
          // noDelay: amqplib turns Nagle on by default, and Nagle against the broker's delayed ACK stalls each small write ~40 ms
          {timeout: c.timeoutMs, noDelay: true, clientProperties: {connection_name: this.connectionName}, ...c.tlsOptions},
        )
      } catch (error) {
        last = connectionError(error, where, c.vhost)
        // a refused login or vhost is the same on every node of a cluster: do not try the others
        if (/refused the login|refused vhost/.test((last as Error).message)) break
      }
    }
    throw last instanceof Error ? last : connectionError(last, this.displayUrl, c.vhost)
  }

  private attach(conn: ChannelModel): void {
    coalesceWrites(conn)
    this.conn = conn
    this.blocked = undefined
    this.found.clear()
    conn.on('error', (error: Error) => {
      if (this.conn === conn) this.lost = error
    })
    conn.on('blocked', (reason: string) => (this.blocked = reason || 'connection.blocked'))
    conn.on('unblocked', () => (this.blocked = undefined))
    conn.on('close', () => {
      if (this.closing || this.conn !== conn) return
      // re-dialled when a subscription or the next call asks for it (reconnected(), connection())
      this.lost ??= new Error('the connection closed')
    })
  }

  /** Dials again after a lost connection until it is back; rejects on close() or a refused login. */
  private reopen(): Promise<void> {
    this.reopening ??= (async () => {
      for (let attempt = 1; ; attempt++) {
        if (this.closing) throw new ConnectionError(`the connection to ${this.displayUrl} was closed`)
        try {
          const conn = await this.dial()
          if (this.closing) {
            await conn.close().catch(() => {})
            continue
          }
          this.attach(conn)
          this.pub = undefined
          this.lost = undefined
          return
        } catch (error) {
          if (!isTransient(error)) throw error
        }
        // unref: a command that has finished does not wait for this back-off to run out
        await sleep(backoffDelay(attempt, REDIAL_BACKOFF), true)
      }
    })().finally(() => (this.reopening = undefined))
    return this.reopening
  }

  async connect(): Promise<void> {
    if (this.conn) return
    const started = Date.now()
    const c = this.config
    this.attach(await this.dial())
    this.serverVersion = String(this.conn!.connection.serverProperties.version ?? '')
    const mgmt = new MgmtClient(c.mgmt.base, c.mgmt.username, c.mgmt.password, c.vhost, Math.min(c.timeoutMs, 5000))
    // the probe must fit in what is left of the connect timeout: a silent management port must not
    // turn a working AMQP connection into a timeout
    const probe = await mgmt.probe(Math.max(250, Math.min(2000, c.timeoutMs - (Date.now() - started) - 250)))
    if ('problem' in probe) {
      // credentials given for the management API itself and refused: say so, rather than carry on
      // without it and fail later as if the API were missing
      if (probe.problem instanceof MgmtRefusedError && c.mgmt.explicit) {
        const conn = this.conn!
        this.conn = undefined // first, so that its close does not count as a lost connection
        await conn.close().catch(() => {})
        const {base, status} = probe.problem
        throw new ConnectionError(
          `the management API at ${base} (--mgmt-url) refused the credentials (HTTP ${status}) — check the user and password in --mgmt-url; the user also needs the "monitoring" or "management" tag`,
        )
      }
      this.mgmtProblem = probe.problem
    } else this.mgmt = mgmt
    this.facts = {mgmt: !!this.mgmt, delayedExchange: 'exchangeTypes' in probe && probe.exchangeTypes.includes('x-delayed-message')}
  }

  private connection(): ChannelModel {
    if (this.lost) {
      if (!this.closing) void this.reopen().catch(() => {})
      throw this.lostError()
    }
    if (!this.conn) throw new ConnectionError(`not connected to ${this.displayUrl} (connect() first)`)
    return this.conn
  }

  private lostError(): ConnectionError {
    return new ConnectionError(`lost the connection to ${this.displayUrl}: ${replyText(this.lost ?? 'the connection closed')} — retry the command`, true)
  }

  /** Runs `fn` on a throwaway channel: a refused passive declare closes its channel, never ours. */
  private async withChannel<T>(queue: string, fn: (ch: Channel) => Promise<T>): Promise<T> {
    const ch = await this.connection()
      .createChannel()
      .catch((error: unknown) => {
        // the connection died while the channel was opening ("Channel ended, no reply will be forthcoming")
        throw this.lost ? this.lostError() : channelError(error, queue, this.displayUrl)
      })
    let refusal: Error | undefined
    ch.on('error', (error: Error) => (refusal = error))
    try {
      return await fn(ch)
    } catch (error) {
      if (this.lost && !refusal) throw this.lostError()
      throw channelError(refusal ?? error, queue, this.displayUrl)
    } finally {
      await ch.close().catch(() => {})
    }
  }

  private checkQueue(queue: string): Promise<Replies.AssertQueue> {
    return this.withChannel(queue, (ch) => ch.checkQueue(queue))
  }

  private needMgmt(what: string): MgmtClient {
    if (!this.mgmt) {
      const why = `${what} needs the RabbitMQ management API, and ${this.mgmtProblem?.message ?? 'it was not probed (connect() first)'}`
      // refused credentials are an authentication problem (exit 3), not a missing feature
      throw this.mgmtProblem instanceof MgmtRefusedError ? new ConnectionError(why) : new NotSupportedError(why)
    }
    return this.mgmt
  }

  private async mgmtQueue(queue: string): Promise<MgmtQueue | undefined> {
    return this.mgmt ? this.mgmt.queue(queue).catch(() => undefined) : undefined
  }

  /** Per queue, from the management API: its type, x-max-priority and dead-letter route. */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    const q = this.mgmt && queue !== undefined ? await this.mgmt.queue(queue).catch(() => undefined) : undefined
    if (!q) return this.brokerCapabilities()
    const route = await resolveDeadLetterRoute(this.mgmt!, q)
    return queueCapabilities(q, !!route, route?.queue, {delayedExchange: this.facts.delayedExchange, maxMessageBytes: this.config.maxMessageBytes, flavor: this.config.flavor})
  }

  async listQueues(): Promise<QueueRef[]> {
    const mgmt = this.needMgmt('listing queues (AMQP alone cannot enumerate them; name a queue to inspect it)')
    const queues = await mgmt.listQueues()
    return queues.map((q) => ({name: q.name, kind: 'amqp'})).sort((a, b) => a.name.localeCompare(b.name))
  }

  async stats(queue: string): Promise<QueueStats> {
    // ready count and consumers from AMQP: exact now; the rest from management stats (lag ≤ 5 s)
    const ok = await this.checkQueue(queue)
    const stats: QueueStats = {name: queue, kind: 'amqp', counts: {waiting: ok.messageCount}, consumers: ok.consumerCount}
    const q = await this.mgmtQueue(queue)
    if (!q) return stats
    // management figures are up to one stats interval old: right after this broker delivered or
    // settled messages of the queue they are wrong, and a count we cannot know is left out
    const fresh = Date.now() - (this.touched.get(queue) ?? 0) > STATS_LAG_MS
    if (fresh) stats.counts.inflight = q.messages_unacknowledged ?? 0
    const ms = q.message_stats
    stats.rates = {inPerSec: ms?.publish_details?.rate ?? 0, outPerSec: ms?.ack_details?.rate ?? ms?.deliver_get_details?.rate ?? 0}
    const route = await resolveDeadLetterRoute(this.mgmt!, q)
    if (route?.queue) {
      const dead = await this.checkQueue(route.queue).catch(() => undefined)
      if (dead) stats.counts.dead = dead.messageCount
    }
    const celeryDelayed = await this.celeryDelayed(queue).catch(() => undefined)
    if (celeryDelayed && 'count' in celeryDelayed) stats.counts.delayed = celeryDelayed.count
    if (q.head_message_timestamp) stats.oldestAgeMs = Math.max(0, Date.now() - q.head_message_timestamp * 1000)
    stats.details = definedOnly({
      type: q.type,
      durable: q.durable,
      arguments: q.arguments,
      policy: q.policy ?? undefined,
      deadLetterExchange: route?.exchange,
      deadLetterQueue: route?.queue,
      celeryDelayed: celeryDelayed && ('unknown' in celeryDelayed ? celeryDelayed.unknown : 'in the delay queues celery_delayed_0…27 of Celery 5.5 (native delayed delivery)'),
      note: fresh
        ? 'in-flight counts and rates come from management stats, refreshed every collect_statistics_interval (5 s by default)'
        : 'in-flight count left out: this process just delivered or settled messages and the management stats (5 s behind) do not show it yet',
    })
    return stats
  }

  private async deadLetterQueue(queue: string): Promise<string> {
    const mgmt = this.needMgmt('reading dead letters')
    const q = await mgmt.queue(queue).catch(() => undefined)
    if (!q) await this.checkQueue(queue) // the NotFoundError of AMQP, with its hint
    const route = q ? await resolveDeadLetterRoute(mgmt, q) : undefined
    if (!route?.queue) {
      throw new NotSupportedError(`queue "${queue}" has no dead-letter queue (no x-dead-letter-exchange bound to one queue) — declare it with x-dead-letter-exchange or set a dead-letter policy`)
    }
    return route.queue
  }

  private async sourceFor(queue: string, state: MessageState | undefined, verb: string): Promise<string> {
    if (state === undefined || state === 'waiting') return queue
    if (state === 'dead') return this.deadLetterQueue(queue)
    throw new NotSupportedError(`cannot ${verb} ${state} messages on amqp — RabbitMQ gives access to waiting messages (and dead ones through the DLQ)`)
  }

  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    if (this.config.queueType === 'stream') throw new NotSupportedError('peek on a stream queue is not supported — consume with an offset instead')
    const source = await this.sourceFor(queue, options.state, 'peek')
    const state = options.state ?? 'waiting'
    // basic.get without ack, then closing the channel returns them all: the broker sets their
    // redelivered flag (quorum queues also count it as a delivery), which is why neither is taken
    // as an attempt (attempts.ts)
    this.touched.set(source, Date.now())
    const peeked = await this.withChannel(source, async (ch) => {
      const out: Message[] = []
      while (out.length < options.limit) {
        const m = await ch.get(source, {noAck: false})
        if (!m) break
        out.push(toMessage(m, queue, state, false))
      }
      return out
    })
    this.touched.set(source, Date.now())
    return peeked
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options: EnqueueOptions = {}): Promise<string[]> {
    try {
      return await this.enqueueNow(queue, messages, options)
    } catch (error) {
      // a driver error because the connection dropped midway (a pending RPC rejected): say so
      if (!isUserError(error) && this.lost) throw this.lostError()
      throw error
    }
  }

  private async enqueueNow(queue: string, messages: OutgoingMessage[], options: EnqueueOptions): Promise<string[]> {
    const flavor = options.flavor ?? this.config.flavor
    if (flavor !== undefined && flavor !== 'celery') throw new NotSupportedError(`flavor "${flavor}" is not known to the amqp adapter — use celery`)
    const items = prepareMessages(messages, {
      queue,
      flavor: flavor as 'celery' | undefined,
      capabilities: this.brokerCapabilities(),
      queueType: this.config.queueType,
      serverVersion: this.serverVersion,
      maxMessageBytes: this.config.maxMessageBytes,
    })
    const delayed = items.some((m) => m.delayMs)
    // a missing queue is exit 4, not a silent drop by the default exchange; a delayed message is not mandatory, so its queue is checked every time
    if (delayed || !this.found.has(queue)) await this.checkQueue(queue)
    if (!delayed) this.found.add(queue)
    if (messages.some((m) => m.priority !== undefined)) await checkPriorities(this.needMgmt('priority'), queue, messages)
    if (delayed) await this.withChannel(queue, (ch) => ensureDelayedBinding(ch, queue))
    const native = items.some((m) => (m.celeryDelayMs ?? 0) >= 1000) ? await this.nativeDelayTarget(queue) : undefined
    if (options.persistent === false) for (const m of items) m.options.persistent = false
    const pub = options.confirms === false ? this.publisher(false) : await this.publisher()
    const direct: PublishTarget = {exchange: '', routingKey: queue}
    const target = (m: {delayMs?: number; celeryDelayMs?: number; options: {headers?: Record<string, unknown>; mandatory?: boolean}}): PublishTarget => {
      // what Celery 5.5 publishes: whole seconds (int(countdown)); under one second it sends the task directly
      if (native && m.celeryDelayMs && m.celeryDelayMs >= 1000) return {exchange: NATIVE_DELAY_EXCHANGE, routingKey: nativeDelayRoutingKey(Math.floor(m.celeryDelayMs / 1000), native.routingKey)}
      if (!m.delayMs) return direct
      m.options.headers = {...m.options.headers, 'x-delay': m.delayMs}
      // the plugin routes only when due, so a mandatory publish would always come back as unroutable
      m.options.mandatory = false
      return {exchange: DELAYED_EXCHANGE, routingKey: queue}
    }
    try {
      const publish = options.confirms === false ? publishUnconfirmed : publishConfirmed
      await publish(await pub.channel, items, {
        queue,
        where: this.displayUrl,
        signal: options.signal,
        onProgress: options.onProgress,
        // one confirm channel keeps the order of everything published on it, across enqueues
        onWritten: options.onWritten,
        target,
        closeReason: () => pub.reason,
        connectionLost: () => this.lost !== undefined,
        blocked: () => this.blocked,
        blockedLimitMs: Math.max(this.config.timeoutMs, 5000),
      })
    } catch (error) {
      if (pub.reason !== undefined) this.forgetPublisher(pub)
      this.found.delete(queue)
      throw error
    }
    return items.map((m) => m.id)
  }

  /** The queue's part in Celery 5.5's native delayed delivery, when the vhost has it and the management API shows the bindings. */
  private async nativeDelayTarget(queue: string): Promise<NativeDelayTarget | undefined> {
    // without the bindings a task sent to the delay exchanges could be dropped when due: the worker holds an eta task instead
    if (!this.mgmt) return undefined
    return (await this.nativeTargets())?.find((t) => t.queue === queue)
  }

  /** The vhost's native delay targets, looked up at most once per stats interval (inspect asks for every queue). */
  private nativeTargets(): Promise<NativeDelayTarget[] | undefined> {
    const cached = this.nativeTargetsSeen
    if (cached && Date.now() - cached.at < STATS_LAG_MS) return cached.targets
    const targets = nativeDelayTargets(this.mgmt!)
    this.nativeTargetsSeen = {at: Date.now(), targets}
    targets.catch(() => (this.nativeTargetsSeen = undefined))
    return targets
  }

  /** Tasks for `queue` held in Celery 5.5's delay queues (counted as delayed). */
  private async celeryDelayed(queue: string): Promise<{count: number} | {unknown: string} | undefined> {
    const reader = {
      // 28 passive declares on one channel: `top` asks every second
      readyCounts: (names: string[]) =>
        this.withChannel(queue, async (ch) => {
          const counts: number[] = []
          for (const name of names) counts.push((await ch.checkQueue(name)).messageCount)
          return counts
        }),
      // basic.get without ack, then closing the channel returns them (classic queues count no delivery)
      routingKeys: (name: string, limit: number) =>
        this.withChannel(name, async (ch) => {
          const keys: string[] = []
          while (keys.length < limit) {
            const m = await ch.get(name, {noAck: false})
            if (!m) break
            keys.push(m.fields.routingKey)
          }
          return keys
        }),
    }
    return nativeDelayedCount(this.mgmt!, queue, reader, this.serverVersion, () => this.nativeTargets())
  }

  /** One confirm channel (and one plain channel, for confirms: false) reused across enqueues; replaced after the broker closes it. */
  private publisher(confirms = true): Publisher {
    const current = confirms ? this.pub : this.plainPub
    if (current) return current
    const conn = this.connection()
    // a plain channel publishes the same way; it just never sends confirms
    const pub: Publisher = {channel: confirms ? conn.createConfirmChannel() : (conn.createChannel() as Promise<ConfirmChannel>)}
    pub.channel
      .then((ch) => {
        ch.setMaxListeners(0) // each enqueue call in flight listens on it (close, return, drain) while it runs
        ch.on('error', (error: Error) => (pub.reason = replyText(error)))
        ch.on('close', () => {
          pub.reason ??= 'the channel closed'
          this.forgetPublisher(pub)
        })
      })
      .catch(() => this.forgetPublisher(pub))
    if (confirms) this.pub = pub
    else this.plainPub = pub
    return pub
  }

  private forgetPublisher(pub: Publisher): void {
    if (this.pub === pub) this.pub = undefined
    if (this.plainPub === pub) this.plainPub = undefined
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    const sub = await startConsumer(
      {
        queue,
        where: this.displayUrl,
        openChannel: async () => this.connection().createChannel(),
        reconnected: () => (this.lost && !this.closing ? this.reopen() : undefined),
        deadLetters: () => this.deadLetterSink(queue),
        attemptCopies: () => this.attemptCopier(queue),
        onActivity: () => this.touched.set(queue, Date.now()),
      },
      handler,
      options,
    )
    this.subscriptions.add(sub)
    void sub.closed.then(() => this.subscriptions.delete(sub))
    return sub
  }

  private async deadLetterSink(queue: string): Promise<DeadLetterSink | undefined> {
    return this.mgmt ? deadLetterSink(this.mgmt, queue, this.config.username, () => this.publisher().channel) : undefined
  }

  /** Failed attempts are counted on copies, on classic and quorum queues alike (attempts.ts); streams are not requeued. */
  private async attemptCopier(queue: string): Promise<AttemptCopier | undefined> {
    // the queue's own type where the management API tells it, else the URL's ?queueType
    const type = (await this.mgmtQueue(queue))?.type ?? this.config.queueType
    if (type === 'stream') return undefined
    const target = {queue, username: this.config.username, timeoutMs: Math.max(this.config.timeoutMs, 5000)}
    return async (msg, attempts) => publishAttemptCopy(await this.publisher().channel, msg, attempts, target)
  }

  async purge(queue: string, state?: MessageState): Promise<number> {
    const source = await this.sourceFor(queue, state, 'purge')
    return this.withChannel(source, async (ch) => {
      await ch.checkQueue(source)
      return (await ch.purgeQueue(source)).messageCount
    })
  }

  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    const declaration = declarationOf(options, this.config.queueType)
    const dlq = declaration.deadLetterQueue
    if (dlq !== undefined && dlq !== queue) await this.withChannel(dlq, (ch) => ch.assertQueue(dlq, {durable: true}))
    await this.withChannel(queue, (ch) => ch.assertQueue(queue, {durable: declaration.durable, arguments: declaration.arguments}))
  }

  async deleteQueue(queue: string): Promise<void> {
    this.found.delete(queue)
    await this.withChannel(queue, async (ch) => {
      await ch.checkQueue(queue)
      await ch.deleteQueue(queue)
    })
  }

  async workers(options: WorkersOptions): Promise<WorkerReport> {
    // async: a lost connection (connection() throws) still lists the management API's consumers
    const celery = async () => within(celeryWorkersOverAmqp(this.connection()), INSPECT_WAIT_MS + Math.max(this.config.timeoutMs, 5000), () => new Error('Celery inspect did not answer in time'))
    return amqpWorkers(this.mgmt, options, celery)
  }

  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    // each step a short while at most: on a stalled network the close handshake never completes
    const grace = closeGraceMs(this.config.timeoutMs)
    await closeWithin(() => Promise.allSettled([...this.subscriptions].map((s) => s.close())), grace, () => {})
    const conn = this.conn
    this.conn = undefined
    if (conn) await closeWithin(() => conn.close(), grace, () => destroySocket(conn))
  }
}

/**
 * amqplib has no forceful close: end the socket under it (the broker requeues what was unacked)
 * and stop its heartbeat timers, which would otherwise keep the process alive for a minute.
 */
function destroySocket(conn: ChannelModel): void {
  const c = conn.connection as unknown as {stream?: {destroy(): void}; heartbeater?: {clear(): void}}
  c.heartbeater?.clear()
  c.stream?.destroy()
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null))
}

export const createAmqpBroker: BrokerFactory = async (url, options) => new AmqpBroker(parseAmqpConfig(url, options))
