// The queue names a target had when its queues were last listed (inspect, top, find --all), so that
// shell completion offers them at a TAB without asking the broker. A hint, never a source of truth:
// only names, keyed by the target's URL with its secrets masked, in $XDG_CACHE_HOME/queuectl.
import {readFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {Broker} from '../broker/contract.js'
import {redactUrl} from '../kernel/redact.js'
import {writePrivateFile} from './config.js'

/** Targets kept (the most recently listed); names kept a target. */
const MAX_TARGETS = 32
const MAX_NAMES = 2000

interface CacheFile {
  targets: Record<string, {at: number; queues: string[]}>
}

export function queueCachePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'queuectl', 'queues.json')
}

/** The key of a target: its URL as shown to the user (no password, no token), never the secret form. */
export function targetKey(url: string): string {
  return redactUrl(url)
}

async function readCache(path: string): Promise<CacheFile> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<CacheFile>
    return {targets: typeof parsed.targets === 'object' && parsed.targets !== null ? parsed.targets : {}}
  } catch {
    return {targets: {}} // missing or damaged: a cache starts again
  }
}

/** The names last listed on the target at `url` (none when it was never listed here). */
export async function cachedQueues(url: string, path = queueCachePath()): Promise<string[]> {
  const entry = (await readCache(path)).targets[targetKey(url)]
  return Array.isArray(entry?.queues) ? entry.queues.filter((q): q is string => typeof q === 'string') : []
}

// what this process wrote last, by target: top lists every second, the file changes only with the names
const written = new Map<string, string>()

/** Records the names listed on the target at `url`; a failure to write is ignored (it is only a hint). */
export async function rememberQueues(url: string, names: readonly string[], path = queueCachePath()): Promise<void> {
  const key = targetKey(url)
  const queues = [...new Set(names)].sort().slice(0, MAX_NAMES)
  const signature = queues.join('\n')
  if (written.get(key) === signature) return
  written.set(key, signature)
  try {
    const cache = await readCache(path)
    cache.targets[key] = {at: Date.now(), queues}
    const keep = Object.entries(cache.targets).sort(([, a], [, b]) => b.at - a.at).slice(0, MAX_TARGETS)
    await writePrivateFile(path, `${JSON.stringify({targets: Object.fromEntries(keep)})}\n`)
  } catch {
    // a read-only home or a full disk: completion just offers less
  }
}

/** `broker` whose listings are remembered for the target at `url` (the other calls pass through). */
export function rememberingListings(broker: Broker, url: string): Broker {
  return new Proxy(broker, {
    get(target, property) {
      if (property === 'listQueues') {
        return async () => {
          const queues = await target.listQueues()
          // a broker without a listing API answers with nothing: that is no news about its queues
          if ((await target.capabilitiesOf()).listQueues) await rememberQueues(url, queues.map((q) => q.name))
          return queues
        }
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
}
