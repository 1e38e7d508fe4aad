// Size-bounded batching, as every broker's batch call wants it: at most so many items and so many
// bytes a batch, items kept in order.

export interface ChunkLimits {
  maxItems: number
  maxBytes: number
}

/** Splits items into batches within both limits; an item larger than maxBytes goes alone in its own batch. */
export function chunkBySize<T>(items: Iterable<T>, size: (item: T) => number, limits: ChunkLimits): T[][] {
  const chunks: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const n = size(item)
    if (current.length > 0 && (current.length >= limits.maxItems || bytes + n > limits.maxBytes)) {
      chunks.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += n
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}
