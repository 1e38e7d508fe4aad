// Settling leases: acks become DeleteMessageBatch calls (the acks of one event-loop turn are
// gathered, 10 a call; waiting longer would slow FIFO groups, which unlock only on delete), nacks
// and extensions ChangeMessageVisibility.
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import {NotFoundError} from '../../kernel/errors.js'
import {isLeaseGone, throttled} from './errors.js'

/** SQS caps a visibility timeout at 12 hours. */
export const MAX_VISIBILITY_S = 43_200

interface Pending {
  handle: string
  resolve: () => void
  reject: (error: Error) => void
}

export class BatchDeleter {
  private readonly buffers = new Map<string, Pending[]>()
  private readonly timers = new Map<string, NodeJS.Immediate>()
  private readonly inFlight = new Set<Promise<void>>()

  constructor(private readonly client: SQSClient) {}

  delete(queueUrl: string, handle: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let buffer = this.buffers.get(queueUrl)
      if (!buffer) this.buffers.set(queueUrl, (buffer = []))
      buffer.push({handle, resolve, reject})
      if (buffer.length >= 10) this.flush(queueUrl)
      else if (!this.timers.has(queueUrl)) this.timers.set(queueUrl, setImmediate(() => this.flush(queueUrl)))
    })
  }

  private flush(queueUrl: string): void {
    clearImmediate(this.timers.get(queueUrl))
    this.timers.delete(queueUrl)
    const buffer = this.buffers.get(queueUrl) ?? []
    this.buffers.delete(queueUrl)
    for (let i = 0; i < buffer.length; i += 10) {
      const call = this.send(queueUrl, buffer.slice(i, i + 10))
      this.inFlight.add(call)
      void call.finally(() => this.inFlight.delete(call))
    }
  }

  private async send(queueUrl: string, entries: Pending[]): Promise<void> {
    try {
      const out = await throttled(() =>
        this.client.send(
          new DeleteMessageBatchCommand({QueueUrl: queueUrl, Entries: entries.map((e, i) => ({Id: String(i), ReceiptHandle: e.handle}))}),
        ),
      )
      const failed = new Map((out.Failed ?? []).map((f) => [Number(f.Id), f]))
      entries.forEach((entry, i) => {
        const f = failed.get(i)
        if (!f) entry.resolve()
        else entry.reject(new Error(`SQS did not delete the message (${f.Code}: ${f.Message}) — its lease may have expired; it will be delivered again`))
      })
    } catch (error) {
      for (const entry of entries) entry.reject(error as Error)
    }
  }

  /** Sends whatever is gathered and waits for every delete in flight. */
  async drain(): Promise<void> {
    for (const url of [...this.buffers.keys()]) this.flush(url)
    await Promise.allSettled([...this.inFlight])
  }
}

/** Extends or hands back a lease; one SQS has already taken back (expired) is a NotFoundError saying so, not the SDK's MessageNotInflight. */
export async function changeVisibility(client: SQSClient, queueUrl: string, handle: string, seconds: number): Promise<void> {
  const timeout = Math.max(0, Math.min(MAX_VISIBILITY_S, Math.ceil(seconds)))
  try {
    await throttled(() =>
      client.send(new ChangeMessageVisibilityCommand({QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: timeout})),
    )
  } catch (error) {
    if (!isLeaseGone(error)) throw error
    const queue = queueUrl.slice(queueUrl.lastIndexOf('/') + 1)
    throw new NotFoundError(
      `the lease on a message of queue "${queue}" has expired: SQS took the message back and will deliver it again — settle or extend it sooner, or consume with a longer lease`,
    )
  }
}

/** Makes received messages visible again, at once or after `visibilityS` (peek, polls that return after a close). */
export async function release(client: SQSClient, queueUrl: string, handles: string[], visibilityS = 0): Promise<void> {
  for (let i = 0; i < handles.length; i += 10) {
    const chunk = handles.slice(i, i + 10)
    await throttled(() =>
      client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, n) => ({Id: String(n), ReceiptHandle: handle, VisibilityTimeout: visibilityS})),
        }),
      ),
    )
  }
}
