// The broker contract: the one interface every transport implements. Read this file first.
// Commands and the runtime only ever see a Broker; what a transport or one of its queues cannot do
// it declares in `capabilitiesOf(queue)`, and callers refuse clearly instead of silently ignoring an
// option. Every operation method exists on every Broker callers get: an adapter implements an
// AdapterBroker (the optional operations only where it has them), and the guard the registry puts
// around it (./kit/guard.ts) refuses the others with the capability's advice (NotSupportedError).

/** Where a message is in its life. Adapters map their own words onto these. */
export type MessageState =
  | 'waiting' // ready to be consumed (BullMQ wait, SQS visible, AMQP ready, Celery list)
  | 'inflight' // leased by a consumer, not yet acked (BullMQ active, SQS not visible, AMQP unacked)
  | 'delayed' // not yet due (BullMQ delayed, Sidekiq schedule, asynq scheduled, SQS delayed)
  | 'retry' // failed and waiting for an automatic retry (Sidekiq retry, asynq retry)
  | 'dead' // failed for good (BullMQ failed, Sidekiq dead, asynq archived, RQ failed, a DLQ)
  | 'completed' // finished, where the broker keeps them (BullMQ, RQ finished, asynq completed)
  | 'paused' // held by a paused queue (BullMQ paused list)

export const MESSAGE_STATES: readonly MessageState[] = [
  'waiting',
  'inflight',
  'delayed',
  'retry',
  'dead',
  'completed',
  'paused',
]

/** How honest `peek` is. */
export type PeekKind =
  | 'exact' // reads without side effects
  | 'requeue' // takes and puts back: sets the redelivered flag and can reorder (AMQP)
  | 'visibility' // receives with a short lease and releases: receive counts go up (SQS)
  | 'none'

export interface Capabilities {
  /** Can enumerate queues without being told their names. */
  listQueues: boolean
  peek: PeekKind
  /** Largest delay the broker can hold a message back for, or false when it cannot delay. */
  delay: false | {maxMs: number}
  /** Priority range served highest first, or false. */
  priority: false | {min: number; max: number}
  /** Where Lease.deadLetter sends a message: kept in the queue under state 'dead' ('state'), a queue of its own ('queue'), or false (cannot). */
  deadLetter: false | 'state' | 'queue'
  /** The dead-letter queue's name, on one queue's capabilities, when deadLetter is 'queue' and known: what `move --state dead` and `retry` take messages from. */
  deadLetterQueue?: string
  /** A lease that is not settled in time is redelivered. */
  leaseExpiry: boolean
  /** Stats include in/out rates. */
  rates: boolean
  /** States `stats` reports counts for. */
  states: readonly MessageState[]
  /** States `purge` can empty. */
  purgeStates: readonly MessageState[]
  /** Largest payload in bytes the broker accepts, when it has a limit. */
  maxPayloadBytes?: number
  /**
   * 'json': the payload is the job's JSON data and nothing else (pg-boss, graphile-worker): bytes
   * that are not JSON, headers and a name other than the queue are refused. Absent: any bytes.
   */
  payload?: 'json'
  /** Deduplication ids (SQS FIFO, BullMQ job ids). */
  dedup: boolean
  /** Message groups (SQS FIFO MessageGroupId). */
  groups: boolean
  /** The broker lives in this process (memory://): no other process reaches it (bench --agents). */
  inProcess: boolean
  /** Broker.retry: the library's own revival into waiting, from these states; false: none (a DLQ queue is retried by moving its messages back). */
  retry: false | {states: readonly MessageState[]}
  /** Broker.pause / resume. */
  pause: boolean
  /** Broker.remove deletes single jobs by id from these states (`queue job delete`, `purge --where`); absent: it cannot. */
  remove?: {states: readonly MessageState[]}
  /** Broker.createQueue makes an empty queue. */
  create: boolean
  /** Broker.deleteQueue. */
  delete: boolean
  /** Lease.extend keeps a lease longer. */
  extend: boolean
  /** Broker.consume delivers from this queue (false: a job library's own workers consume it, e.g. Celery, Sidekiq, RQ, asynq). */
  consume: boolean
  /**
   * false: consuming removes nothing (a log read from an offset, a RabbitMQ stream), so what needs
   * consuming to empty the queue (move, work --until-empty) is refused. Absent: consuming drains.
   */
  consumeDrains?: false
  /** Broker.enqueue sends to this queue (false: queuectl cannot write the library's jobs, e.g. RQ's pickled calls). */
  enqueue: boolean
  /** What to do instead, for each refusal of an option or operation this queue lacks or limits. */
  advice?: {delay?: string; priority?: string; retry?: string; pause?: string; create?: string; delete?: string; extend?: string; consume?: string; enqueue?: string; remove?: string; drain?: string}
  /**
   * Whether `EnqueueOptions.persistent` / `confirms` are the caller's choice here. Absent: the
   * adapter declares neither, and a caller asking for either refuses.
   */
  publish?: {persistent: PublishChoice; confirms: PublishChoice}
  /** What differs when enqueueing with `EnqueueOptions.flavor` set to the key (AMQP's celery: an eta the Celery worker holds, so it delays without a broker plugin). */
  flavors?: Record<string, Partial<Pick<Capabilities, 'delay'>>>
}

/**
 * 'choice': per enqueue (EnqueueOptions); 'always' / 'never': fixed, whatever is asked;
 * 'server': decided by the broker's own configuration, not per message (Redis AOF/RDB).
 */
export type PublishChoice = 'choice' | 'always' | 'never' | 'server'

/** A queue as `listQueues` finds it. `kind` is the transport or flavor: memory, list, bullmq, celery, amqp, sqs… */
export interface QueueRef {
  name: string
  kind: string
}

/** What `listQueues` may resolve with: `incomplete` says why queues may be missing (e.g. a SCAN time budget ran out). */
export type QueueList = QueueRef[] & {incomplete?: string}

export interface QueueStats extends QueueRef {
  /** Counts by state; a state the broker cannot count is absent, never 0. */
  counts: Partial<Record<MessageState, number>>
  consumers?: number
  /** Age of the oldest waiting message in ms, where knowable. */
  oldestAgeMs?: number
  rates?: {inPerSec?: number; outPerSec?: number}
  paused?: boolean
  /** Transport-specific facts worth showing (DLQ, queue type, arguments…). */
  details?: Record<string, unknown>
  /** The workers on this queue, where the caller asked the workers service (top, metrics, wait). */
  workers?: WorkerInfo[]
}

/** The envelope every adapter returns, whatever the broker's native form. */
export interface Message {
  id: string
  queue: string
  name?: string
  /** The payload bytes exactly as stored. */
  payload: Buffer
  contentType?: string
  /** The payload decoded, when it is JSON (or the flavor's decoded task: args, kwargs…). */
  body?: unknown
  headers: Record<string, string>
  /** Deliveries so far (first delivery = 1; 0 when never delivered). */
  attempts: number
  state: MessageState
  priority?: number
  /** Its message group, where the broker keeps one (SQS FIFO MessageGroupId). */
  groupId?: string
  /** Epoch ms. */
  enqueuedAt?: number
  /** Epoch ms at which a delayed message becomes due. */
  availableAt?: number
  lastError?: string
  /** Why the native form could not be decoded; the message is still listed. */
  undecodable?: string
  /** The broker's native form, for `--raw`. */
  raw?: unknown
}

/** What a producer hands to `enqueue`. */
export interface OutgoingMessage {
  payload: Buffer | string
  contentType?: string
  name?: string
  headers?: Record<string, string>
  delayMs?: number
  priority?: number
  /** Deduplication id (SQS FIFO MessageDeduplicationId, BullMQ jobId). */
  dedupId?: string
  /** Message group (SQS FIFO MessageGroupId). */
  groupId?: string
  /**
   * The id the message had where it came from (move, retry), kept where the broker lets a
   * sender set it (AMQP message-id); brokers that assign their own ids ignore it.
   */
  messageId?: string
}

export interface EnqueueOptions {
  signal?: AbortSignal
  /** Called after each confirmed batch with the running total. */
  onProgress?: (sent: number) => void
  /**
   * Encode for a job library sharing the broker, e.g. 'celery' (name = task name, payload = JSON
   * args/kwargs). An adapter that does not know the flavor refuses with NotSupportedError.
   */
  flavor?: string
  /**
   * The caller hands the payload Buffers over and will not touch them again, so an adapter that
   * keeps them (memory) may skip its defensive copy. A hint: adapters may ignore it.
   */
  transferPayloads?: boolean
  /** Ask the broker to write the messages to disk (AMQP delivery mode 2, the default) or not. Only where `capabilities.publish.persistent` is 'choice'. */
  persistent?: boolean
  /** Wait for the broker to confirm each message (AMQP publisher confirms, the default) or not. Only where `capabilities.publish.confirms` is 'choice'. */
  confirms?: boolean
  /**
   * false: the caller does not use the returned ids (bench, move, bulk loads), so an adapter whose
   * ids cost work per message (a Redis list hashes each raw item) may skip them and return [].
   */
  ids?: boolean
  /**
   * Called once every message of this call is on the connection in order, before its confirms
   * come back: a later call's messages will be stored after these, so the caller may start the
   * next batch now. Only an adapter whose writes keep their order across calls (one connection,
   * channel or producer) calls it; never called, the caller keeps one call in flight.
   */
  onWritten?: () => void
}

/**
 * A filter an adapter may apply on the server to skip jobs that cannot match (a pushdown): every
 * condition must hold. A prefilter only: the caller still tests each job it gets, so an adapter
 * may ignore any or all of it. `path` starts at the envelope: ['body', 'tenant'], ['id'].
 */
export interface PeekMatch {
  all: {path: string[]; equals: string | number | boolean}[]
}

export interface PeekOptions {
  limit: number
  state?: MessageState
  /** Skip, on the server, jobs that cannot match (where the adapter can; see PeekMatch). */
  match?: PeekMatch
  /**
   * Where a peek is a receive that counts toward a redrive to the dead-letter queue (SQS
   * maxReceiveCount), the adapter refuses to peek unless this is set.
   */
  consumeReceives?: boolean
}

export interface NackOptions {
  /** Redeliver after this long instead of at once. Only where `capabilities.delay`. */
  delayMs?: number
  /**
   * The message was worked and failed: its next delivery must count one attempt more. Where the
   * broker does not count deliveries (RabbitMQ classic queues) the adapter records it on a copy,
   * which goes to the back of the queue. Unset: a plain hand-back (unstarted, filtered out) that
   * keeps the message as it is.
   */
  failed?: boolean
}

/** A leased message. Exactly one of ack / nack / deadLetter settles it; later calls are no-ops. */
export interface Lease {
  readonly message: Message
  ack(): Promise<void>
  /** Put it back for redelivery. */
  nack(options?: NackOptions): Promise<void>
  /** Give up on it: to the dead state/queue. */
  deadLetter(reason: string): Promise<void>
  /** Keep the lease longer (slow handlers). Only where `capabilities.extend`; elsewhere it refuses. */
  extend(ms: number): Promise<void>
}

export interface ConsumeOptions {
  /** Most leases held at once, unsettled. */
  prefetch: number
  /** How long a lease lasts before redelivery, where the broker lets us choose. */
  leaseMs?: number
  /**
   * While the connection is lost (broker restart, network blip), keep the subscription alive and
   * resume once the broker is back, for up to this long; then `closed` resolves with the error.
   * Leases from before the loss are settled if still possible, else redelivered by the broker.
   * Default 0: the subscription ends at the first connection failure.
   */
  reconnectMs?: number
  /** Told when the connection is lost ('lost', with why) and when consuming resumed ('back'). */
  onConnection?: (state: 'lost' | 'back', error?: Error) => void
  /**
   * Longest one receive may wait on an empty queue, where the broker long-polls (SQS). close()
   * waits for a receive in flight, so a consumer that stops once the queue is idle asks for short ones.
   */
  pollWaitMs?: number
}

export type LeaseHandler = (lease: Lease) => void

export interface Subscription {
  /**
   * Stops delivering; unsettled leases stay leased until settled or expired. Resolves once nothing
   * more can be delivered (on SQS: once the long polls in flight ended). Idempotent.
   */
  close(): Promise<void>
  /** Resolves when the subscription ended by itself with an error (connection lost…). */
  readonly closed: Promise<Error | undefined>
  /** It waits out a lost connection by itself (ConsumeOptions.reconnectMs): an error in `closed` means it gave up. */
  readonly resumes?: boolean
}

/**
 * A new queue's settings, by the names its transport's descriptor declares in `createOptions`
 * (durations in ms). An adapter refuses a name it does not declare for that queue.
 */
export type QueueOptions = Readonly<Record<string, string | number | boolean>>

/** One consumer or worker process, as the broker or the job library records it (`queue workers`). */
export interface WorkerInfo {
  /** Who keeps the record: rabbitmq, nats, bullmq, bull, sidekiq, rq, graphile… */
  kind: string
  /** Its name, tag or identity as the library's own tools show it. */
  name: string
  host?: string
  pid?: number
  /** The queues it takes work from, as queuectl names them (on Redis: kind:name). */
  queues: string[]
  /** Most jobs at once (threads, prefetch, max ack pending). */
  concurrency?: number
  /** Jobs it holds now. */
  busy?: number
  /** What it works on now, where the library records it. */
  current?: {id: string; name?: string; queue?: string; startedAt?: number}[]
  /** Epoch ms. */
  startedAt?: number
  /** Epoch ms of its last heartbeat (or last activity). */
  lastSeenAt?: number
  /** Its heartbeat is older than the library's own threshold: probably dead (kill -9) and not cleaned up yet. */
  stale?: boolean
  version?: string
  /** Broker-specific facts (channel, ack mode, waiting pulls…). */
  details?: Record<string, unknown>
}

export interface WorkersOptions {
  /** Only those working on one of these queues; empty: every one the broker knows. */
  queues: readonly string[]
  /** A heartbeat older than this is stale, instead of the library's own threshold. */
  staleAfterMs?: number
}

/** What `Broker.workers` finds, with `notes` saying what it cannot know here (SQS: no registry of consumers). */
export interface WorkerReport {
  workers: WorkerInfo[]
  notes: string[]
  /** false: the broker keeps no record of its consumers at all (SQS, memory://), so none found means unknown, not 0. */
  recorded?: boolean
}

export interface RetryOptions {
  state?: MessageState
  ids?: string[]
  limit?: number
}

export interface Broker {
  /** Transport name for messages: memory, redis, amqp, sqs. */
  readonly transport: string
  /** The URL with secrets redacted. */
  readonly displayUrl: string

  /** Checks the connection works (and credentials); rejects with a ConnectionError. */
  connect(): Promise<void>
  listQueues(): Promise<QueueRef[]>
  /** Rejects with NotFoundError when the queue does not exist. */
  stats(queue: string): Promise<QueueStats>
  peek(queue: string, options: PeekOptions): Promise<Message[]>
  /** Batch-first. Resolves with the ids in order (or [] where `options.ids` is false and the adapter skips them); on partial failure rejects with EnqueueError (sent count). */
  enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]>
  consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription>
  /** Removes messages in a state (default: waiting); resolves with how many. */
  purge(queue: string, state?: MessageState): Promise<number>
  /**
   * One queue's capabilities; without a queue, the broker's own (listing, inProcess, what a new
   * queue gets). The only capability read callers do.
   */
  capabilitiesOf(queue?: string): Promise<Capabilities>
  /** Makes an empty queue (`capabilities.create`), with the settings its descriptor's `createOptions` declare. */
  createQueue(queue: string, options?: QueueOptions): Promise<void>
  /** Removes the queue and its messages (`capabilities.delete`). */
  deleteQueue(queue: string): Promise<void>
  /** The library's own retry from `capabilities.retry.states` → waiting. Resolves with how many. */
  retry(queue: string, options: RetryOptions): Promise<number>
  /**
   * Deletes these jobs, each where it is in `state` (`capabilities.remove`); an id not found there
   * is skipped. Resolves with how many were removed. Elsewhere it refuses (NotSupportedError).
   */
  remove(queue: string, ids: readonly string[], state: MessageState): Promise<number>
  /** The consumers and worker processes the broker or its job libraries record; where none are recorded, a note says so. */
  workers(options: WorkersOptions): Promise<WorkerReport>
  /** Stops delivery from the queue (`capabilities.pause`). */
  pause(queue: string): Promise<void>
  resume(queue: string): Promise<void>
  /** Idempotent. */
  close(): Promise<void>
}

export interface BrokerOptions {
  /** Connect timeout in ms. */
  timeoutMs: number
  tls?: {caFile?: string; insecure?: boolean}
  /**
   * The transports' own connection options by name, as their descriptors declare them (AMQP's
   * `mgmt-url`, SQS's `endpoint`); each adapter reads its own and ignores the others.
   */
  options?: Record<string, string | undefined>
}

/** The operations a transport leaves out where it has none; the guard refuses them. */
export type OptionalOperation = 'createQueue' | 'deleteQueue' | 'retry' | 'remove' | 'workers' | 'pause' | 'resume'

/** What an adapter implements: the Broker, with the optional operations only where it has them. */
export interface AdapterBroker extends Omit<Broker, OptionalOperation>, Partial<Pick<Broker, OptionalOperation>> {
  /** How refusals name a queue (default: `queue "NAME" on URL`). */
  queueLabel?(queue: string): Promise<string>
}

/** Makes (does not connect) a transport's broker; the registry wraps it in the guard. */
export type BrokerFactory = (url: URL, options: BrokerOptions) => Promise<AdapterBroker>
