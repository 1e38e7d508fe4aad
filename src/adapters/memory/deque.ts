/** An array-backed FIFO with O(1) amortised push and shift; compacts instead of shifting. */
export class Deque<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
  }

  peekFirst(): T | undefined {
    return this.items[this.head]
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head === this.items.length) {
      // empty again: start over in place instead of letting the dead prefix grow
      this.items.length = 0
      this.head = 0
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Removes every item matching the predicate; returns them in order. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const kept: T[] = []
    const removed: T[] = []
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T
      ;(predicate(item) ? removed : kept).push(item)
    }
    this.items = kept
    this.head = 0
    return removed
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T
  }
}
