// Every bench message starts with a 16-byte header: when it was meant to be sent (epoch ms, float64
// LE), its sequence number (uint32) and the producing agent (uint16), then a magic number. The rest
// is padding to --size, or the bytes of --payload. Sequence numbers let the report prove that no
// message was lost or processed twice.

export const HEADER_BYTES = 16
const MAGIC = 0x5142 // "QB"

/** Epoch ms with sub-ms resolution, comparable across processes on one machine. */
export const clock = (): number => performance.timeOrigin + performance.now()

export class PayloadFactory {
  private readonly template: Buffer

  constructor(sizeBytes: number, body?: Buffer) {
    this.template = Buffer.alloc(Math.max(HEADER_BYTES, sizeBytes), 0x78) // 'x' padding, never uninitialised memory
    if (body) body.copy(this.template, HEADER_BYTES)
  }

  make(sentAt: number, seq: number, agent: number): Buffer {
    const buf = Buffer.allocUnsafe(this.template.length)
    this.template.copy(buf, HEADER_BYTES, HEADER_BYTES)
    buf.writeDoubleLE(sentAt, 0)
    buf.writeUInt32LE(seq >>> 0, 8)
    buf.writeUInt16LE(agent, 12)
    buf.writeUInt16LE(MAGIC, 14)
    return buf
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
