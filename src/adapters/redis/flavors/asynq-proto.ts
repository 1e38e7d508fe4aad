// asynq's TaskMessage (internal/proto/asynq.proto in hibiken/asynq), in protobuf wire format.
// A small hand-written codec for this one message instead of a protobuf dependency: the message has
// only varints (wire type 0) and length-delimited fields (wire type 2), and we must report a
// truncated message precisely rather than throw deep inside a library. Field numbers:
//   1 type (string)   2 payload (bytes)   3 id (string)   4 queue (string)   5 retry (int32)
//   6 retried (int32)   7 error_msg (string)   8 timeout (int64)   9 deadline (int64)
//   10 unique_key (string)   11 last_failed_at (int64)   12 retention (int64)
//   13 completed_at (int64)   14 group_key (string)   15 headers (map<string, string>)
// Unknown fields are skipped (any wire type), as protobuf requires.

export interface AsynqTask {
  type: string
  payload: Buffer
  id: string
  queue: string
  retry: number
  retried: number
  errorMsg: string
  timeout: number
  deadline: number
  uniqueKey: string
  lastFailedAt: number
  retention: number
  completedAt: number
  groupKey: string
  headers: Record<string, string>
}

const STRINGS = {1: 'type', 3: 'id', 4: 'queue', 7: 'errorMsg', 10: 'uniqueKey', 14: 'groupKey'} as const
const INTS = {5: 'retry', 6: 'retried', 8: 'timeout', 9: 'deadline', 11: 'lastFailedAt', 12: 'retention', 13: 'completedAt'} as const

export class ProtoError extends Error {}

class Reader {
  pos = 0
  constructor(readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos >= this.buf.length
  }
  varint(): bigint {
    let result = 0n
    let shift = 0n
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtoError(`truncated varint at byte ${this.pos} of ${this.buf.length}`)
      const b = this.buf[this.pos++]!
      result |= BigInt(b & 0x7f) << shift
      if ((b & 0x80) === 0) return result
      shift += 7n
    }
    throw new ProtoError(`varint longer than 10 bytes at byte ${this.pos}`)
  }
  bytes(): Buffer {
    const len = Number(this.varint())
    if (this.pos + len > this.buf.length) throw new ProtoError(`truncated: a field of ${len} bytes at byte ${this.pos} runs past the end (${this.buf.length} bytes)`)
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  skip(wire: number, field: number): void {
    const need = (n: number) => {
      if (this.pos + n > this.buf.length) throw new ProtoError(`truncated: field ${field} needs ${n} bytes at byte ${this.pos}`)
      this.pos += n
    }
    if (wire === 0) this.varint()
    else if (wire === 1) need(8)
    else if (wire === 2) this.bytes()
    else if (wire === 5) need(4)
    else throw new ProtoError(`unsupported wire type ${wire} (field ${field}) at byte ${this.pos}`)
  }
}

/** Signed 64-bit value of a varint (int32/int64 encode negatives as 10-byte two's complement). */
function signed(v: bigint): number {
  return Number(BigInt.asIntN(64, v))
}

export function decodeAsynqTask(buf: Buffer): AsynqTask {
  const task: AsynqTask = {type: '', payload: Buffer.alloc(0), id: '', queue: '', retry: 0, retried: 0, errorMsg: '', timeout: 0, deadline: 0, uniqueKey: '', lastFailedAt: 0, retention: 0, completedAt: 0, groupKey: '', headers: {}}
  const r = new Reader(buf)
  while (!r.done) {
    const tag = Number(r.varint())
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 0) throw new ProtoError(`field number 0 at byte ${r.pos} (not a protobuf message)`)
    if (field in STRINGS && wire === 2) task[STRINGS[field as keyof typeof STRINGS]] = r.bytes().toString('utf8')
    else if (field === 2 && wire === 2) task.payload = Buffer.from(r.bytes())
    else if (field in INTS && wire === 0) task[INTS[field as keyof typeof INTS]] = signed(r.varint())
    else if (field === 15 && wire === 2) {
      const entry = new Reader(r.bytes())
      let key = ''
      let value = ''
      while (!entry.done) {
        const t = Number(entry.varint())
        if (t === 10) key = entry.bytes().toString('utf8')
        else if (t === 18) value = entry.bytes().toString('utf8')
        else entry.skip(t & 7, t >>> 3)
      }
      task.headers[key] = value
    } else r.skip(wire, field)
  }
  return task
}

function varint(v: bigint | number): Buffer {
  let n = BigInt.asUintN(64, BigInt(v))
  const out: number[] = []
  do {
    let b = Number(n & 0x7fn)
    n >>= 7n
    if (n > 0n) b |= 0x80
    out.push(b)
  } while (n > 0n)
  return Buffer.from(out)
}

function lengthDelimited(field: number, bytes: Buffer): Buffer[] {
  return [varint((field << 3) | 2), varint(bytes.length), bytes]
}

/** Encodes like proto3 Marshal: fields in number order, zero values omitted. */
export function encodeAsynqTask(task: Partial<AsynqTask>): Buffer {
  const parts: Buffer[] = []
  const str = (field: number, v: string | undefined) => v && parts.push(...lengthDelimited(field, Buffer.from(v, 'utf8')))
  const int = (field: number, v: number | undefined) => v && parts.push(varint(field << 3), varint(v))
  str(1, task.type)
  if (task.payload && task.payload.length > 0) parts.push(...lengthDelimited(2, task.payload))
  str(3, task.id)
  str(4, task.queue)
  int(5, task.retry)
  int(6, task.retried)
  str(7, task.errorMsg)
  int(8, task.timeout)
  int(9, task.deadline)
  str(10, task.uniqueKey)
  int(11, task.lastFailedAt)
  int(12, task.retention)
  int(13, task.completedAt)
  str(14, task.groupKey)
  for (const [k, v] of Object.entries(task.headers ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const entry = Buffer.concat([...lengthDelimited(1, Buffer.from(k, 'utf8')), ...lengthDelimited(2, Buffer.from(v, 'utf8'))])
    parts.push(...lengthDelimited(15, entry))
  }
  return Buffer.concat(parts)
}
