// Lua scripts run through ioredis defineCommand (EVALSHA, falling back to EVAL), so each script is
// one atomic round trip; on a Cluster every key of one call must share a hash slot (see auxKey).
import type {RedisClient} from './connection.js'

export interface ScriptDef {
  name: string
  keys: number
  lua: string
}

const defined = new WeakMap<RedisClient, Set<string>>()

type Callable = (...args: (string | Buffer | number)[]) => Promise<unknown>

function define(client: RedisClient, def: ScriptDef): void {
  let names = defined.get(client)
  if (!names) defined.set(client, (names = new Set()))
  if (!names.has(def.name)) {
    client.defineCommand(def.name, {numberOfKeys: def.keys, lua: def.lua})
    names.add(def.name)
  }
}

/** Runs a script; `buffers` returns bulk strings as Buffers (payload bytes stay exact). */
export async function runScript(
  client: RedisClient,
  def: ScriptDef,
  keys: string[],
  args: (string | Buffer | number)[],
  buffers = false,
): Promise<unknown> {
  define(client, def)
  const fn = (client as unknown as Record<string, Callable>)[buffers ? `${def.name}Buffer` : def.name]!
  return fn.call(client, ...keys, ...args)
}

type Batched = {keys: string[]; args: (string | Buffer | number)[]; resolve(value: unknown): void; reject(error: unknown): void}

/**
 * A script runner that sends the calls made in the same tick as one pipeline (one write instead of
 * one per call: many acks at once), each call still its own atomic script with its own result.
 * All calls through one runner must hash to one slot on a Cluster (the keys of one queue do).
 */
export function batchedScript(client: RedisClient, def: ScriptDef): (keys: string[], args: (string | Buffer | number)[]) => Promise<unknown> {
  let queued: Batched[] = []
  const flush = () => {
    const calls = queued
    queued = []
    if (calls.length === 1) {
      const [c] = calls
      runScript(client, def, c!.keys, c!.args).then(c!.resolve, c!.reject)
      return
    }
    define(client, def)
    const pipe = client.pipeline() as unknown as Record<string, (...args: (string | Buffer | number)[]) => unknown> & {exec(): Promise<[Error | null, unknown][] | null>}
    for (const c of calls) pipe[def.name]!(...c.keys, ...c.args)
    pipe.exec().then(
      (results) => calls.forEach((c, i) => {
        const [error, value] = results?.[i] ?? [new Error('no reply from Redis'), undefined]
        if (error) c.reject(error)
        else c.resolve(value)
      }),
      (error: unknown) => calls.forEach((c) => c.reject(error)),
    )
  }
  return (keys, args) =>
    new Promise((resolve, reject) => {
      if (queued.length === 0) queueMicrotask(flush)
      queued.push({keys, args, resolve, reject})
    })
}
