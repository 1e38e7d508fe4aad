// Which sequence numbers arrived, per producing agent, so the report can prove none was lost or
// processed twice. Memory stays flat on long runs: below a watermark every number has arrived, and
// only the window above it is a bitset (it slides forward as the gaps fill).

class Window {
  /** Every seq below `base` has arrived. */
  base = 0
  bits = new Uint8Array(1024)
  /** bits[offset] holds seqs base..base+7 (base is a multiple of 8). */
  offset = 0

  has(seq: number): boolean {
    if (seq < this.base) return true
    const i = this.offset + ((seq - this.base) >>> 3)
    return i < this.bits.length && (this.bits[i]! & (1 << (seq & 7))) !== 0
  }

  /** Sets seq; false when it was set already. */
  set(seq: number): boolean {
    if (seq < this.base) return false
    let i = this.offset + ((seq - this.base) >>> 3)
    if (i >= this.bits.length) {
      this.makeRoom(i)
      i = this.offset + ((seq - this.base) >>> 3)
    }
    const mask = 1 << (seq & 7)
    if (this.bits[i]! & mask) return false
    this.bits[i]! |= mask
    if (i === this.offset && this.bits[i] === 0xff) this.advance()
    return true
  }

  private advance(): void {
    while (this.offset < this.bits.length && this.bits[this.offset] === 0xff) {
      this.bits[this.offset] = 0
      this.offset++
      this.base += 8
    }
  }

  /** Compacts (drops the filled prefix) while the open window fits in half the array, else grows. */
  private makeRoom(index: number): void {
    const need = index - this.offset + 1
    const live = this.bits.length - this.offset
    if (need <= this.bits.length / 2) {
      this.bits.copyWithin(0, this.offset)
      this.bits.fill(0, live)
    } else {
      const next = new Uint8Array(Math.max(this.bits.length * 2, need * 2))
      next.set(this.bits.subarray(this.offset))
      this.bits = next
    }
    this.offset = 0
  }

  /** Every seq that arrived, as {base, bits above base} for another process. */
  export(): {base: number; bits: string} {
    const used = this.bits.subarray(this.offset)
    let end = used.length
    while (end > 0 && used[end - 1] === 0) end--
    return {base: this.base, bits: Buffer.from(used.subarray(0, end)).toString('base64')}
  }
}

export interface ExportedSeen {
  [agent: string]: {base: number; bits: string}
}

export class SequenceTracker {
  private readonly windows = new Map<number, Window>()
  private last: Window | undefined
  private lastAgent = -1
  unique = 0
  duplicates = 0

  /** Marks (agent, seq) as processed; returns false when it had been already (a duplicate). */
  mark(agent: number, seq: number): boolean {
    const w = agent === this.lastAgent ? this.last! : this.windowFor(agent)
    if (w.set(seq)) {
      this.unique++
      return true
    }
    this.duplicates++
    return false
  }

  /** How many of seq 0..sent-1 of `agent` never arrived. */
  missing(agent: number, sent: number): number {
    const w = this.windows.get(agent)
    let got = 0
    if (w) for (let seq = 0; seq < sent; seq++) if (w.has(seq)) got++
    return sent - got
  }

  export(): ExportedSeen {
    const out: ExportedSeen = {}
    for (const [agent, w] of this.windows) out[agent] = w.export()
    return out
  }

  /** Adds another tracker's sequence numbers; one seen by both counts as a duplicate. */
  merge(exported: ExportedSeen): void {
    for (const [key, {base, bits}] of Object.entries(exported)) {
      const agent = Number(key)
      for (let seq = 0; seq < base; seq++) this.mark(agent, seq)
      const bytes = Buffer.from(bits, 'base64')
      for (let i = 0; i < bytes.length; i++) {
        const b = bytes[i]!
        if (b === 0) continue
        for (let bit = 0; bit < 8; bit++) if (b & (1 << bit)) this.mark(agent, base + i * 8 + bit)
      }
    }
  }

  private windowFor(agent: number): Window {
    let w = this.windows.get(agent)
    if (!w) {
      w = new Window()
      this.windows.set(agent, w)
    }
    this.last = w
    this.lastAgent = agent
    return w
  }
}
