// "Did you mean" for names the user mistyped.
import {NotFoundError} from './errors.js'

export function editDistance(a: string, b: string): number {
  const row = Array.from({length: b.length + 1}, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = cur
    }
  }
  return row[b.length]!
}

/** Candidates close to `name`: a shared prefix/substring or a small edit distance, nearest first. */
export function nearNames(name: string, candidates: Iterable<string>, max = 5): string[] {
  const lower = name.toLowerCase()
  return [...new Set(candidates)]
    .map((c) => {
      const cl = c.toLowerCase()
      const d = editDistance(lower, cl)
      const related = cl.includes(lower) || lower.includes(cl) || d <= Math.max(2, Math.floor(name.length / 3))
      return {c, d, related}
    })
    .filter((x) => x.related)
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, max)
    .map((x) => x.c)
}

export function queueNotFound(queue: string, where: string, candidates: Iterable<string>): NotFoundError {
  const near = nearNames(queue, candidates)
  const hint = near.length > 0 ? `did you mean: ${near.join(', ')}?` : 'run `queue inspect` to list the queues'
  return new NotFoundError(`queue "${queue}" not found on ${where} — ${hint}`, near)
}
