// One produce request in flight per producer, and the batches that wait for it go out together.
// @platformatic/kafka 1.x numbers an idempotent batch when it is sent but advances the partition's
// sequence only when the answer comes, so two sends in flight carry the same sequence: the broker
// refuses the second (OUT_OF_ORDER_SEQUENCE_NUMBER) or, when both are the same size, takes it for a
// retry and drops it while acking it (platformatic/kafka issue 326, fixed in 2.x). Sending one at
// a time alone made N concurrent enqueues wait N round trips; joining the waiting ones into the
// next request (what Kafka's own producer does with the batches it accumulates while a request is
// in flight) makes it one.
import type {ProduceResult, Producer} from '@platformatic/kafka'
import type {OutRecord} from './codec.js'

export interface SendRecord {
  topic: string
  partition?: number
  key?: Buffer
  value: Buffer
  headers?: Map<Buffer, Buffer>
}

interface Waiting {
  batch: OutRecord[]
  messages: SendRecord[]
  wantIds: boolean
  bytes: number
  resolve(ids: string[]): void
  reject(error: unknown): void
}

/** A joined request stays well under Kafka's default 1 MiB batch and request limits. */
const MAX_JOINED_BYTES = 512 * 1024
const MAX_JOINED_RECORDS = 1000

const explicit = (w: Waiting): boolean => w.batch.every((r) => r.partition !== undefined)

/**
 * Whether `w` may go in one request with `group`: ids are exact only where every record's partition
 * is known before the send (the broker answers one base offset per partition), so a batch that
 * wants ids joins others only when all of them name their partitions; and within the size limits.
 */
function joins(group: Waiting[], records: number, bytes: number, w: Waiting): boolean {
  if (records + w.messages.length > MAX_JOINED_RECORDS || bytes + w.bytes > MAX_JOINED_BYTES) return false
  const anyIds = w.wantIds || group.some((g) => g.wantIds)
  return !anyIds || (explicit(w) && group.every(explicit))
}

class SendQueue {
  private waiting: Waiting[] = []
  private busy = false

  constructor(private readonly producer: Producer) {}

  send(w: Waiting): void {
    this.waiting.push(w)
    if (!this.busy) void this.drain()
  }

  private async drain(): Promise<void> {
    this.busy = true
    while (this.waiting.length > 0) {
      const group = this.takeGroup()
      const messages = group.length === 1 ? group[0]!.messages : group.flatMap((w) => w.messages)
      try {
        const result = (await this.producer.send({messages})) as ProduceResult
        settleIds(group, result)
      } catch (error) {
        for (const w of group) w.reject(error)
      }
    }
    this.busy = false
  }

  private takeGroup(): Waiting[] {
    const group = [this.waiting.shift()!]
    let records = group[0]!.messages.length
    let bytes = group[0]!.bytes
    while (this.waiting.length > 0 && joins(group, records, bytes, this.waiting[0]!)) {
      const w = this.waiting.shift()!
      group.push(w)
      records += w.messages.length
      bytes += w.bytes
    }
    return group
  }
}

/** Each batch's ids, PARTITION:OFFSET, counted on from the base offset the broker gave each partition. */
function settleIds(group: Waiting[], result: ProduceResult): void {
  if (!group.some((w) => w.wantIds)) {
    for (const w of group) w.resolve([])
    return
  }
  const next = new Map<string, bigint>()
  for (const o of result.offsets ?? []) next.set(`${o.topic}:${o.partition}`, o.offset)
  const only = result.offsets?.length === 1 ? result.offsets[0]!.partition : undefined
  for (const w of group) {
    const ids: string[] = []
    for (const r of w.batch) {
      const partition = r.partition ?? only
      const at = partition === undefined ? undefined : next.get(`${r.topic}:${partition}`)
      if (at === undefined || partition === undefined) continue
      ids.push(`${partition}:${at}`)
      next.set(`${r.topic}:${partition}`, at + 1n)
    }
    w.resolve(w.wantIds ? ids : [])
  }
}

const queues = new WeakMap<Producer, SendQueue>()

/** Sends `messages` (made from `batch`) on `producer` after, or together with, the sends before it. */
export function queuedSend(producer: Producer, batch: OutRecord[], messages: SendRecord[], wantIds: boolean): Promise<string[]> {
  let queue = queues.get(producer)
  if (!queue) queues.set(producer, (queue = new SendQueue(producer)))
  let bytes = 0
  for (const m of messages) bytes += m.value.length + (m.key?.length ?? 0) + 64
  return new Promise<string[]>((resolve, reject) => queue.send({batch, messages, wantIds, bytes, resolve, reject}))
}
