// Queue names → queue URLs (GetQueueUrl, cached) and the attributes the adapter decides by
// (FIFO, deduplication, size limit, redrive policy), cached briefly so batches do not re-ask.
import {GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, type SQSClient} from '@aws-sdk/client-sqs'
import {UsageError} from '../../kernel/errors.js'
import {queueNotFound} from '../../kernel/suggest.js'
import {SQS_MAX_MESSAGE_BYTES} from './capabilities.js'
import {isQueueMissing, throttled, toUserError} from './errors.js'

export interface QueueInfo {
  name: string
  url: string
  arn: string
  fifo: boolean
  contentDedup: boolean
  maxBytes: number
  visibilityTimeoutS: number
  /** From the RedrivePolicy, when the queue has a dead-letter queue. */
  deadLetter?: {arn: string; name: string; maxReceiveCount: number}
  attributes: Record<string, string>
}

const INFO_TTL_MS = 30_000
const REGION_IN_HOST = [/(?:^|\.)sqs\.([a-z]{2}(?:-[a-z]+)+-\d+)\./, /^([a-z]{2}(?:-[a-z]+)+-\d+)\.queue\./]

function isQueueUrl(queue: string): boolean {
  return /^https?:\/\//i.test(queue)
}

/** The queue's name: the last path segment of a queue URL, or the name itself. */
export function queueName(queue: string): string {
  return isQueueUrl(queue) ? decodeURIComponent(new URL(queue).pathname.split('/').filter(Boolean).pop() ?? queue) : queue
}

/** The name in an SQS queue ARN (arn:aws:sqs:region:account:name). */
function arnName(arn: string): string {
  return arn.split(':').pop() ?? arn
}

export class QueueDirectory {
  private readonly urls = new Map<string, string>()
  private readonly infos = new Map<string, {at: number; info: QueueInfo}>()

  constructor(
    private readonly client: SQSClient,
    private readonly where: string,
  ) {}

  async region(): Promise<string> {
    return this.client.config.region()
  }

  /** Every queue URL on the account/region, following NextToken. */
  async listUrls(prefix?: string): Promise<string[]> {
    const urls: string[] = []
    let token: string | undefined
    do {
      const page = await throttled(() =>
        this.client.send(new ListQueuesCommand({MaxResults: 1000, NextToken: token, QueueNamePrefix: prefix})),
      )
      urls.push(...(page.QueueUrls ?? []))
      token = page.NextToken
    } while (token)
    return urls
  }

  async url(queue: string): Promise<string> {
    const known = this.urls.get(queue)
    if (known) return known
    let url: string
    if (isQueueUrl(queue)) {
      url = await this.checkRegion(queue)
    } else {
      try {
        const out = await throttled(() => this.client.send(new GetQueueUrlCommand({QueueName: queue})))
        url = out.QueueUrl!
      } catch (error) {
        if (isQueueMissing(error)) throw await this.notFound(queue)
        throw toUserError(error, this.where, queue)
      }
    }
    this.urls.set(queue, url)
    return url
  }

  private async checkRegion(queueUrl: string): Promise<string> {
    const host = new URL(queueUrl).hostname
    const inUrl = REGION_IN_HOST.map((re) => re.exec(host)?.[1]).find(Boolean)
    const region = await this.region()
    if (inUrl && inUrl !== region) {
      throw new UsageError(
        `queue URL ${queueUrl} is in region ${inUrl} but this connection uses ${region} — add ?region=${inUrl} to the sqs:// URL (or set AWS_REGION=${inUrl})`,
      )
    }
    return queueUrl
  }

  private async notFound(queue: string): Promise<Error> {
    const names = await this.listUrls().then((urls) => urls.map(queueName), () => [] as string[])
    return queueNotFound(queue, this.where, names)
  }

  forget(queue: string): void {
    this.urls.delete(queue)
    this.infos.delete(queue)
  }

  /** The queue's attributes (cached for a few seconds unless `fresh`). */
  async info(queue: string, fresh = false): Promise<QueueInfo> {
    const cached = this.infos.get(queue)
    if (!fresh && cached && Date.now() - cached.at < INFO_TTL_MS) return cached.info
    const url = await this.url(queue)
    let attributes: Record<string, string>
    try {
      const out = await throttled(() => this.client.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['All']})))
      attributes = out.Attributes ?? {}
    } catch (error) {
      if (isQueueMissing(error)) {
        this.forget(queue)
        throw await this.notFound(queueName(queue))
      }
      throw toUserError(error, this.where, queue)
    }
    const info: QueueInfo = {
      name: queueName(queue),
      url,
      arn: attributes.QueueArn ?? '',
      fifo: attributes.FifoQueue === 'true',
      contentDedup: attributes.ContentBasedDeduplication === 'true',
      maxBytes: Number(attributes.MaximumMessageSize ?? SQS_MAX_MESSAGE_BYTES),
      visibilityTimeoutS: Number(attributes.VisibilityTimeout ?? 30),
      attributes,
    }
    if (attributes.RedrivePolicy) {
      try {
        const policy = JSON.parse(attributes.RedrivePolicy) as {deadLetterTargetArn?: string; maxReceiveCount?: number | string}
        if (policy.deadLetterTargetArn) {
          info.deadLetter = {
            arn: policy.deadLetterTargetArn,
            name: arnName(policy.deadLetterTargetArn),
            maxReceiveCount: Number(policy.maxReceiveCount ?? 0),
          }
        }
      } catch {
        // an unreadable policy: shown raw in stats details, no DLQ features
      }
    }
    this.infos.set(queue, {at: Date.now(), info})
    return info
  }

  /** The dead-letter queue's info, or undefined when the queue has none. */
  async deadLetterOf(queue: string): Promise<QueueInfo | undefined> {
    const source = await this.info(queue)
    if (!source.deadLetter) return undefined
    const parts = source.deadLetter.arn.split(':')
    const account = parts[4]
    const dlqName = source.deadLetter.name
    if (!this.urls.has(dlqName)) {
      try {
        const out = await throttled(() =>
          this.client.send(new GetQueueUrlCommand({QueueName: dlqName, QueueOwnerAWSAccountId: account || undefined})),
        )
        this.urls.set(dlqName, out.QueueUrl!)
      } catch (error) {
        if (isQueueMissing(error)) return undefined
        throw toUserError(error, this.where, dlqName)
      }
    }
    return this.info(dlqName)
  }
}
