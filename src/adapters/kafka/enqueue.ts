// Producing with the idempotent producer (acks=all): records over the topic's max.message.bytes
// are refused before anything is sent (exit 2); delay, priority and dedup ids are refused with advice.
import type {Producer} from '@platformatic/kafka'
import type {EnqueueOptions, OutgoingMessage} from '../../broker/contract.js'
import {EnqueueError, NotSupportedError, UsageError, isUserError} from '../../kernel/errors.js'
import {ADVICE} from './capabilities.js'
import {toRecord, type OutRecord} from './codec.js'
import {isConnectionTrouble, requestError} from './errors.js'
import {queuedSend, type SendRecord} from './send-queue.js'

const BATCH = 500

function refuseOptions(messages: OutgoingMessage[]): void {
  for (const m of messages) {
    if (m.delayMs) throw new NotSupportedError(`kafka:// cannot delay records — ${ADVICE.delay}`)
    if (m.priority !== undefined) throw new NotSupportedError(`kafka:// has no priorities — ${ADVICE.priority}`)
    if (m.dedupId) throw new NotSupportedError('kafka:// has no deduplication ids: the idempotent producer already writes a retried record once; for end-to-end dedup keep a key and dedupe in the consumer')
  }
}

export interface ProduceTarget {
  topic: string
  partition?: number
  maxBytes: number
  where: string
}

/** Sends the records in batches; ids are PARTITION:OFFSET where the broker said the offset. */
export async function produceAll(producer: Producer, target: ProduceTarget, messages: OutgoingMessage[], options?: EnqueueOptions): Promise<string[]> {
  refuseOptions(messages)
  const records = messages.map((m) => toRecord(target.topic, m, target.partition))
  const big = records.findIndex((r) => r.value.length + (r.key?.length ?? 0) > target.maxBytes)
  if (big >= 0) {
    throw new UsageError(`message ${big + 1} is ${records[big]!.value.length} bytes, over ${target.topic}'s max.message.bytes (${target.maxBytes} usable) — nothing was sent; send smaller records or raise the topic's max.message.bytes`)
  }
  const ids: string[] = []
  let sent = 0
  for (let i = 0; i < records.length; i += BATCH) {
    if (options?.signal?.aborted) break
    const batch = records.slice(i, i + BATCH)
    try {
      const pending = sendBatch(producer, batch, options?.ids !== false)
      // the send queue takes it at once, in order (one producer): this call's last chunk is out
      if (i + BATCH >= records.length) options?.onWritten?.()
      const got = await pending
      for (const id of got) ids.push(id)
    } catch (error) {
      const e = requestError(error, target.where)
      if (isUserError(e) && sent === 0) throw e
      throw new EnqueueError(`sent ${sent} of ${records.length}: ${e.message}`, sent, undefined, {
        pending: Array.from({length: records.length - sent}, (_, k) => sent + k),
        transient: isConnectionTrouble(error),
      })
    }
    sent += batch.length
    options?.onProgress?.(sent)
  }
  return options?.ids === false ? [] : ids
}

const headerMap = (headers: Record<string, string>): Map<Buffer, Buffer> | undefined => {
  let out: Map<Buffer, Buffer> | undefined
  for (const k in headers) (out ??= new Map()).set(Buffer.from(k), Buffer.from(headers[k]!))
  return out
}

/** The record as the client takes it, built field by field (no rest or spread copies per record). */
function toSend(r: OutRecord): SendRecord {
  const m: SendRecord = {topic: r.topic, value: r.value}
  if (r.partition !== undefined) m.partition = r.partition
  if (r.key !== undefined) m.key = r.key
  const headers = headerMap(r.headers)
  if (headers) m.headers = headers
  return m
}

/**
 * One batch in one produce request (with the batches waiting beside it: send-queue.ts); the broker
 * answers each partition's base offset, so ids follow the batch order. `wantIds: false` (bench,
 * import) skips making them: a string per record otherwise.
 */
export async function sendBatch(producer: Producer, batch: OutRecord[], wantIds = true): Promise<string[]> {
  return queuedSend(producer, batch, batch.map(toSend), wantIds)
}
