// SCAN across every master within a time budget (never KEYS): detection must finish on a
// keyspace of millions of unrelated keys, and say so when it stopped early.
import type {KeyScanner, ScanSpec} from './flavor.js'
import {scanNodes, type RedisClient} from './connection.js'

export const DEFAULT_SCAN_BUDGET_MS = 5000

/** A scanner whose every pass shares one deadline (one listQueues or one name lookup). */
export function createScanner(client: RedisClient, budgetMs: number): KeyScanner {
  const deadline = Date.now() + budgetMs
  const passes = new Map<string, Promise<{keys: string[]; complete: boolean}>>()
  const scanner: KeyScanner = {
    scan(spec: ScanSpec) {
      const id = JSON.stringify([spec.match ?? null, spec.type ?? null])
      let pass = passes.get(id)
      if (!pass) passes.set(id, (pass = run(spec)))
      return pass
    },
  }
  return scanner

  async function run({match, type}: ScanSpec): Promise<{keys: string[]; complete: boolean}> {
      const keys = new Set<string>()
      let complete = true
      await Promise.all(
        scanNodes(client).map(async (node) => {
          let cursor = '0'
          do {
            if (Date.now() > deadline) {
              complete = false
              return
            }
            const args: (string | number)[] = [cursor, 'COUNT', 1000]
            if (match) args.push('MATCH', match)
            if (type) args.push('TYPE', type)
            const [next, found] = (await node.call('SCAN', ...args)) as [string, string[]]
            for (const key of found) keys.add(key)
            cursor = next
          } while (cursor !== '0')
        }),
      )
      return {keys: [...keys], complete}
  }
}
