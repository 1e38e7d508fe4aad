/** Leased messages as an intrusive doubly linked list: O(1) add and remove with no hashing per delivery. */
export interface Linked<T> {
  prev: T | undefined
  next: T | undefined
}

export class InflightList<T extends Linked<T>> {
  private head: T | undefined
  private tail: T | undefined
  size = 0

  add(item: T): void {
    item.prev = this.tail
    item.next = undefined
    if (this.tail) this.tail.next = item
    else this.head = item
    this.tail = item
    this.size++
  }

  /** Removes an item that is in this list. */
  delete(item: T): void {
    if (item.prev) item.prev.next = item.next
    else this.head = item.next
    if (item.next) item.next.prev = item.prev
    else this.tail = item.prev
    item.prev = item.next = undefined
    this.size--
  }

  /** In lease order; safe when the current item is deleted while iterating. */
  *values(): IterableIterator<T> {
    for (let item = this.head; item; ) {
      const next = item.next
      yield item
      item = next
    }
  }
}
