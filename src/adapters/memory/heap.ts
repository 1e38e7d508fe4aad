/** A binary min-heap ordered by a comparator. */
export class MinHeap<T> {
  private readonly items: T[] = []
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get length(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const items = this.items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(items[i]!, items[parent]!)) break
      ;[items[i], items[parent]] = [items[parent]!, items[i]!]
      i = parent
    }
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop()!
    if (items.length > 0) {
      items[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < items.length && this.less(items[l]!, items[m]!)) m = l
        if (r < items.length && this.less(items[r]!, items[m]!)) m = r
        if (m === i) break
        ;[items[i], items[m]] = [items[m]!, items[i]!]
        i = m
      }
    }
    return top
  }

  /** Removes every item matching the predicate; returns them. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const removed = this.items.filter(predicate)
    if (removed.length === 0) return removed
    const kept = this.items.filter((item) => !predicate(item))
    this.items.length = 0
    for (const item of kept) this.push(item)
    return removed
  }

  /** Items in order, without removing them. */
  sorted(): T[] {
    const copy = new MinHeap<T>(this.less)
    for (const item of this.items) copy.push(item)
    const out: T[] = []
    while (copy.length > 0) out.push(copy.pop()!)
    return out
  }
}
