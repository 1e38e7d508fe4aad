// Every bench message starts with a 16-byte header: when it was meant to be sent (epoch ms, float64
// LE), its sequence number (uint32) and the producing agent (uint16), then a magic number. The rest
// is padding to --size, or the bytes of --payload. Sequence numbers let the report prove that no
// message was lost or processed twice.

export const HEADER_BYTES = 16
const MAGIC = 0x5142 // "QB"

/** Epoch ms with sub-ms resolution, comparable across processes on one machine. */
const origin = performance.timeOrigin // the getter is slow enough to show in a profile
export const clock = (): number => origin + performance.now()

export class PayloadFactory {
  private readonly size: number
  private readonly body: Buffer | undefined
  private slab: Buffer = Buffer.alloc(0)
  private offset = 0

  constructor(sizeBytes: number, body?: Buffer) {
    this.size = Math.max(HEADER_BYTES, sizeBytes)
    this.body = body
  }

  /** Messages are views into 64 KiB slabs pre-filled with the padding: only the header is written per message. */
  make(sentAt: number, seq: number, agent: number): Buffer {
    if (this.offset + this.size > this.slab.length) this.newSlab()
    const buf = this.slab.subarray(this.offset, this.offset + this.size)
    this.offset += this.size
    buf.writeDoubleLE(sentAt, 0)
    buf.writeUInt32LE(seq >>> 0, 8)
    buf.writeUInt16LE(agent, 12)
    buf.writeUInt16LE(MAGIC, 14)
    return buf
  }

  private newSlab(): void {
    const count = Math.max(1, Math.floor(65_536 / this.size))
    this.slab = Buffer.alloc(count * this.size, 0x78) // 'x' padding, never uninitialised memory
    if (this.body) for (let i = 0; i < count; i++) this.body.copy(this.slab, i * this.size + HEADER_BYTES)
    this.offset = 0
  }
}

/** A bench message for a broker that keeps only JSON (capabilities.payload 'json'): its bytes as a base64 JSON string. */
export const toJsonPayload = (bytes: Buffer): Buffer => Buffer.from(`"${bytes.toString('base64')}"`)

/** The bytes back from toJsonPayload; anything else as it is (then not a bench message). */
export function fromJsonPayload(payload: Buffer): Buffer {
  if (payload[0] !== 0x22) return payload
  try {
    return Buffer.from(JSON.parse(payload.toString('utf8')) as string, 'base64')
  } catch {
    return payload
  }
}

export interface Header {
  sentAt: number
  seq: number
  agent: number
}

/** Reads the header, or undefined when the payload is not a bench message. */
export function readHeader(payload: Buffer): Header | undefined {
  if (payload.length < HEADER_BYTES || payload.readUInt16LE(14) !== MAGIC) return undefined
  return {sentAt: payload.readDoubleLE(0), seq: payload.readUInt32LE(8), agent: payload.readUInt16LE(12)}
}
