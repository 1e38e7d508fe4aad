// sqs:// — AWS SQS (standard and FIFO queues) and emulators such as fauxqs. URL forms and options
// are in config.ts; how messages map to SQS in codec.ts.
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import {setMaxListeners} from 'node:events'
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
  RetryOptions,
  Subscription,
  WorkerReport,
} from '../../broker/contract.js'
import {ConnectionError, NotSupportedError} from '../../kernel/errors.js'
import {NO_DLQ_ADVICE, sqsCapabilities, sqsFifoCapabilities} from './capabilities.js'
import {decodeMessage} from './codec.js'
import {parseSqsUrl, type SqsSettings} from './config.js'
import {startConsumer} from './consume.js'
import {errorName, throttled, toUserError} from './errors.js'
import {sendMessages} from './enqueue.js'
import {QueueDirectory, queueName, type QueueInfo} from './queues.js'
import {retryDeadLetters} from './redrive.js'
import {creationOf} from './create.js'
import {BatchDeleter, release} from './settle.js'

export {sqsCapabilities, sqsFifoCapabilities} from './capabilities.js'

// The SDK's "upgrade Node" notice is for developers of the SDK's users, not for CLI output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** How long a peek holds messages before handing them back (they are released at once after). */
const PEEK_VISIBILITY_S = 15

class SqsBroker implements AdapterBroker {
  readonly transport = 'sqs'
  readonly displayUrl: string
  private readonly brokerCapabilities: Capabilities
  private readonly client: SQSClient
  private readonly dir: QueueDirectory
  private readonly deleter: BatchDeleter
  private readonly aborter = new AbortController()
  private readonly subscriptions = new Set<Subscription>()
  private closed = false

  constructor(private readonly settings: SqsSettings) {
    this.displayUrl = settings.displayUrl
    this.brokerCapabilities = settings.fifo ? sqsFifoCapabilities : sqsCapabilities
    this.client = new SQSClient({
      region: settings.region,
      endpoint: settings.endpoint,
      credentials: settings.credentials,
      maxAttempts: 3,
      // a long poll waits up to 20 s: the request timeout must outlast it
      requestHandler: {connectionTimeout: settings.timeoutMs, requestTimeout: (settings.waitSeconds + 15) * 1000},
    })
    // every request in flight listens on the close signal: many long polls are normal
    setMaxListeners(0, this.aborter.signal)
    this.dir = new QueueDirectory(this.client, this.displayUrl)
    this.deleter = new BatchDeleter(this.client)
  }

  private get ctx() {
    return {client: this.client, dir: this.dir, where: this.displayUrl, defaultGroupId: this.settings.defaultGroupId}
  }

  async connect(): Promise<void> {
    try {
      await this.client.config.region()
    } catch {
      throw new ConnectionError(`no AWS region for ${this.displayUrl} — set AWS_REGION or add ?region=us-east-1 to the sqs:// URL`)
    }
    const signal = AbortSignal.timeout(this.settings.timeoutMs)
    try {
      await Promise.race([
        this.client.config.credentials(),
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('credentials: TimeoutError')))),
      ])
      await this.client.send(new ListQueuesCommand({MaxResults: 1}), {abortSignal: signal})
    } catch (error) {
      if (signal.aborted) {
        throw new ConnectionError(
          `could not reach ${this.displayUrl} within ${this.settings.timeoutMs} ms — check the endpoint/region and network (raise --timeout if it is slow)`,
        )
      }
      throw toUserError(error, this.displayUrl)
    }
  }

  /** FIFO queues take no per-message delay, standard ones no deduplication ids; each queue has its own size limit and DLQ. */
  async capabilitiesOf(queue?: string): Promise<Capabilities> {
    if (queue === undefined) return this.brokerCapabilities
    const info = await this.dir.info(queue)
    const base = info.fifo ? sqsFifoCapabilities : {...sqsCapabilities, dedup: false}
    // dead-lettering and the redrive need the queue's redrive policy (its DLQ)
    if (!info.deadLetter) {
      return {...base, maxPayloadBytes: info.maxBytes, deadLetter: false, retry: false, advice: {...base.advice, retry: NO_DLQ_ADVICE}}
    }
    return {...base, maxPayloadBytes: info.maxBytes, deadLetterQueue: info.deadLetter.name}
  }

  async listQueues(): Promise<QueueRef[]> {
    try {
      const urls = await this.dir.listUrls()
      return urls
        .map((url) => queueName(url))
        .sort()
        .map((name) => ({name, kind: name.endsWith('.fifo') ? 'sqs-fifo' : 'sqs'}))
    } catch (error) {
      throw toUserError(error, this.displayUrl)
    }
  }

  async stats(queue: string): Promise<QueueStats> {
    const info = await this.dir.info(queue, true)
    const a = info.attributes
    const counts: QueueStats['counts'] = {
      waiting: Number(a.ApproximateNumberOfMessages ?? 0),
      inflight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
    }
    const details: Record<string, unknown> = {
      queueUrl: info.url,
      type: info.fifo ? 'fifo' : 'standard',
      visibilityTimeoutS: info.visibilityTimeoutS,
      retentionS: a.MessageRetentionPeriod === undefined ? undefined : Number(a.MessageRetentionPeriod),
      delayS: a.DelaySeconds === undefined ? undefined : Number(a.DelaySeconds),
      maxMessageBytes: info.maxBytes,
      countsAreApproximate: true,
    }
    if (info.fifo) details.contentBasedDeduplication = info.contentDedup
    if (a.RedrivePolicy) {
      details.redrivePolicy = a.RedrivePolicy
      const dlq = await this.dir.deadLetterOf(queue).catch(() => undefined)
      if (info.deadLetter) {
        details.deadLetterQueue = info.deadLetter.name
        details.maxReceiveCount = info.deadLetter.maxReceiveCount
      }
      if (dlq) {
        const d = (await this.dir.info(dlq.name, true)).attributes
        counts.dead =
          Number(d.ApproximateNumberOfMessages ?? 0) +
          Number(d.ApproximateNumberOfMessagesNotVisible ?? 0) +
          Number(d.ApproximateNumberOfMessagesDelayed ?? 0)
      } else if (info.deadLetter) details.deadLetterQueueMissing = true
    }
    return {name: info.name, kind: info.fifo ? 'sqs-fifo' : 'sqs', counts, details}
  }

  /**
   * Receives with a short visibility timeout and releases at once: receive counts go up. So on a
   * queue with a redrive policy it refuses unless `consumeReceives`: each peek would bring every
   * message it shows one receive closer to the dead-letter queue before any worker saw it.
   */
  async peek(queue: string, options: PeekOptions): Promise<Message[]> {
    const state = options.state ?? 'waiting'
    let target: QueueInfo
    if (state === 'waiting') target = await this.dir.info(queue, true)
    else if (state === 'dead') {
      const source = await this.dir.info(queue, true)
      const dlq = await this.dir.deadLetterOf(queue)
      if (!dlq) throw new NotSupportedError(`queue "${source.name}" has no dead-letter queue (no RedrivePolicy), so it has no dead messages to show`)
      target = await this.dir.info(dlq.name, true)
    } else {
      throw new NotSupportedError(`sqs:// can peek waiting messages and dead ones (in the DLQ), not "${state}" — SQS hides in-flight and delayed messages`)
    }
    if (target.deadLetter && !options.consumeReceives) throw peekRefused(target)
    const got: Message[] = []
    const handles: string[] = []
    try {
      while (got.length < options.limit) {
        const out = await throttled(() =>
          this.client.send(
            new ReceiveMessageCommand({
              QueueUrl: target.url,
              MaxNumberOfMessages: Math.min(10, options.limit - got.length),
              VisibilityTimeout: PEEK_VISIBILITY_S,
              WaitTimeSeconds: 1,
              MessageAttributeNames: ['All'],
              MessageSystemAttributeNames: ['All'],
            }),
            {abortSignal: this.aborter.signal},
          ),
        )
        const received = out.Messages ?? []
        if (received.length === 0) break
        for (const raw of received) {
          handles.push(raw.ReceiptHandle!)
          got.push(decodeMessage(queueName(queue), raw, state, true))
        }
      }
    } catch (error) {
      throw toUserError(error, this.displayUrl, queue)
    } finally {
      await release(this.client, target.url, handles).catch(() => {})
    }
    return got
  }

  async enqueue(queue: string, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
    if (messages.length === 0) return []
    return sendMessages(this.ctx, await this.dir.info(queue), messages, options)
  }

  async consume(queue: string, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription> {
    const info = await this.dir.info(queue)
    const ctx = {...this.ctx, deleter: this.deleter, waitSeconds: this.settings.waitSeconds, signal: this.aborter.signal}
    const sub = startConsumer(ctx, info, handler, options)
    this.subscriptions.add(sub)
    void sub.closed.then(() => this.subscriptions.delete(sub))
    return sub
  }

  async purge(queue: string, state: MessageState = 'waiting'): Promise<number> {
    if (state === 'dead') {
      const dlq = await this.dir.deadLetterOf(queue)
      if (!dlq) throw new NotSupportedError(`queue "${queueName(queue)}" has no dead-letter queue, so there is nothing dead to purge`)
      const d = (await this.dir.info(dlq.name, true)).attributes
      const n = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed']
        .map((k) => Number(d[k] ?? 0))
        .reduce((x, y) => x + y, 0)
      await this.purgeQueue(dlq)
      return n
    }
    if (state !== 'waiting') throw new NotSupportedError(`sqs:// can purge waiting or dead messages, not "${state}"`)
    const info = await this.dir.info(queue, true)
    const a = info.attributes
    const visible = Number(a.ApproximateNumberOfMessages ?? 0)
    // PurgeQueue also drops in-flight and delayed messages: only use it when there are none
    if (Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) === 0 && Number(a.ApproximateNumberOfMessagesDelayed ?? 0) === 0) {
      if (await this.purgeQueue(info)) return visible
    }
    return this.deleteVisible(info)
  }

  /** PurgeQueue; false when SQS refuses because a purge ran in the last 60 s. */
  private async purgeQueue(info: QueueInfo): Promise<boolean> {
    try {
      await this.client.send(new PurgeQueueCommand({QueueUrl: info.url}))
      return true
    } catch (error) {
      if (/PurgeQueueInProgress/.test(errorName(error))) return false
      throw toUserError(error, this.displayUrl, info.name)
    }
  }

  private async deleteVisible(info: QueueInfo): Promise<number> {
    let removed = 0
    for (;;) {
      const out = await throttled(() =>
        this.client.send(new ReceiveMessageCommand({QueueUrl: info.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60})),
      )
      const got = out.Messages ?? []
      if (got.length === 0) return removed
      const res = await throttled(() =>
        this.client.send(
          new DeleteMessageBatchCommand({QueueUrl: info.url, Entries: got.map((m, i) => ({Id: String(i), ReceiptHandle: m.ReceiptHandle!}))}),
        ),
      )
      removed += res.Successful?.length ?? 0
    }
  }

  async workers(): Promise<WorkerReport> {
    return {workers: [], recorded: false, notes: ['SQS keeps no registry of consumers — the messages in flight (inspect: inflight) are the only trace of them']}
  }

  async createQueue(queue: string, options: QueueOptions = {}): Promise<void> {
    const {attributes, redrive} = creationOf(queue, options)
    try {
      if (redrive) {
        const dlqAttributes = redrive.queue.endsWith('.fifo') ? {FifoQueue: 'true'} : undefined
        await this.client.send(new CreateQueueCommand({QueueName: redrive.queue, Attributes: dlqAttributes}))
        const arn = (await this.dir.info(redrive.queue, true)).arn
        attributes.RedrivePolicy = JSON.stringify({deadLetterTargetArn: arn, maxReceiveCount: redrive.maxReceives})
      }
      await this.client.send(new CreateQueueCommand({QueueName: queue, Attributes: Object.keys(attributes).length ? attributes : undefined}))
    } catch (error) {
      throw toUserError(error, this.displayUrl)
    } finally {
      this.dir.forget(queue)
    }
  }

  async deleteQueue(queue: string): Promise<void> {
    const url = await this.dir.url(queue)
    try {
      await this.client.send(new DeleteQueueCommand({QueueUrl: url}))
    } catch (error) {
      throw toUserError(error, this.displayUrl, queue)
    } finally {
      this.dir.forget(queue)
    }
  }

  async retry(queue: string, options: RetryOptions): Promise<number> {
    return retryDeadLetters(this.ctx, queue, options)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((s) => s.close()))
    await this.deleter.drain()
    this.aborter.abort()
    this.client.destroy()
  }
}

/** Why a peek would count: one line naming the redrive policy and the way out. */
function peekRefused(q: QueueInfo): NotSupportedError {
  const dl = q.deadLetter!
  return new NotSupportedError(
    `will not peek "${q.name}": on SQS a peek is a receive, and its redrive policy moves a message to "${dl.name}" after maxReceiveCount ${dl.maxReceiveCount} receives — pass --consume-receives to peek anyway (each message shown uses up one receive)`,
  )
}

export const createSqsBroker: BrokerFactory = async (url, options) => new SqsBroker(parseSqsUrl(url, options))
