// Shared by the SQS tests and benchmarks: the emulator's endpoint, a raw SDK client for setting
// queues up the way users would with the AWS CLI, and broker URLs pointing at the emulator.
import {CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient} from '@aws-sdk/client-sqs'
import {inject} from 'vitest'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export const REGION = 'us-east-1'

export function sqsEndpoint(): string {
  const endpoint = inject('sqsEndpoint') ?? process.env.SQS_TEST_ENDPOINT
  if (!endpoint) throw new Error('the fauxqs emulator is not running — test/setup/sqs.ts should have started it')
  return endpoint
}

/** A broker URL for the emulator with inline (dummy) credentials; `extra` adds query options. */
export function emulatorUrl(extra = ''): string {
  const {host} = new URL(sqsEndpoint())
  return `sqs://test:testsecret@${host}?region=${REGION}${extra}`
}

export function adminClient(endpoint = sqsEndpoint(), region = REGION): SQSClient {
  return new SQSClient({endpoint, region, credentials: {accessKeyId: 'test', secretAccessKey: 'testsecret'}})
}

export interface QueuePair {
  name: string
  url: string
  dlqName: string
  dlqUrl: string
}

/** A queue with a dead-letter queue (RedrivePolicy), as a user would set one up. */
export async function createQueueWithDlq(
  client: SQSClient,
  name: string,
  options: {fifo?: boolean; maxReceiveCount?: number; contentDedup?: boolean} = {},
): Promise<QueuePair> {
  const fifo = options.fifo ?? name.endsWith('.fifo')
  const base = fifo ? name.replace(/\.fifo$/, '') : name
  const dlqName = fifo ? `${base}-dlq.fifo` : `${base}-dlq`
  const fifoAttrs: Record<string, string> = fifo
    ? {FifoQueue: 'true', ContentBasedDeduplication: String(options.contentDedup ?? true)}
    : {}
  const dlq = await client.send(new CreateQueueCommand({QueueName: dlqName, Attributes: fifoAttrs}))
  const dlqArn = (await client.send(new GetQueueAttributesCommand({QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn']}))).Attributes!.QueueArn!
  const redrive = JSON.stringify({deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 1000})
  const q = await client.send(new CreateQueueCommand({QueueName: fifo ? `${base}.fifo` : name, Attributes: {...fifoAttrs, RedrivePolicy: redrive}}))
  return {name: fifo ? `${base}.fifo` : name, url: q.QueueUrl!, dlqName, dlqUrl: dlq.QueueUrl!}
}

export async function dropQueueWithDlq(client: SQSClient, name: string): Promise<void> {
  const dlqName = name.endsWith('.fifo') ? name.replace(/\.fifo$/, '-dlq.fifo') : `${name}-dlq`
  for (const q of [name, dlqName]) {
    try {
      const {QueueUrl} = await client.send(new GetQueueUrlCommand({QueueName: q}))
      await client.send(new DeleteQueueCommand({QueueUrl}))
    } catch {
      // already gone
    }
  }
}
