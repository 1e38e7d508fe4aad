// Which sequence numbers arrived, per producing agent: a growable bitset each, so a run of millions
// of messages costs a bit per message and the report can prove none was lost or processed twice.

export class SequenceTracker {
  private readonly seen = new Map<number, Uint8Array>()
  private last: Uint8Array = new Uint8Array(0)
  private lastAgent = -1
  unique = 0
  duplicates = 0

  /** Marks (agent, seq) as processed; returns false when it had been already (a duplicate). */
  mark(agent: number, seq: number): boolean {
    let bits = agent === this.lastAgent ? this.last : this.bitsFor(agent)
    const byte = seq >>> 3
    if (byte >= bits.length) bits = this.grow(agent, byte)
    const mask = 1 << (seq & 7)
    if (bits[byte]! & mask) {
      this.duplicates++
      return false
    }
    bits[byte]! |= mask
    this.unique++
    return true
  }

  /** How many of seq 0..sent-1 of `agent` never arrived. */
  missing(agent: number, sent: number): number {
    const bits = this.seen.get(agent)
    let got = 0
    if (bits) for (let seq = 0; seq < sent; seq++) if (bits[seq >>> 3]! & (1 << (seq & 7))) got++
    return sent - got
  }

  /** Bitsets by agent, for merging across agents. */
  export(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [agent, bits] of this.seen) out[agent] = Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString('base64')
    return out
  }

  /** ORs another agent's bitsets in; a bit set in both counts as a duplicate. */
  merge(exported: Record<string, string>): void {
    for (const [key, b64] of Object.entries(exported)) {
      const other = Buffer.from(b64, 'base64')
      const agent = Number(key)
      let bits = this.bitsFor(agent)
      if (other.length > bits.length) bits = this.grow(agent, other.length - 1)
      for (let i = 0; i < other.length; i++) {
        const o = other[i]!
        if (o === 0) continue
        const both = bits[i]! & o
        if (both) this.duplicates += popcount(both)
        this.unique += popcount(o & ~bits[i]!)
        bits[i]! |= o
      }
    }
  }

  private bitsFor(agent: number): Uint8Array {
    let bits = this.seen.get(agent)
    if (!bits) {
      bits = new Uint8Array(1024)
      this.seen.set(agent, bits)
    }
    this.last = bits
    this.lastAgent = agent
    return bits
  }

  private grow(agent: number, byte: number): Uint8Array {
    const old = this.bitsFor(agent)
    let size = old.length
    while (size <= byte) size *= 2
    const bits = new Uint8Array(size)
    bits.set(old)
    this.seen.set(agent, bits)
    this.last = bits
    return bits
  }
}

function popcount(n: number): number {
  let c = 0
  for (let v = n; v; v &= v - 1) c++
  return c
}
