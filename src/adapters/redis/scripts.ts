// Lua scripts run through ioredis defineCommand (EVALSHA, falling back to EVAL), so each script is
// one atomic round trip; on a Cluster every key of one call must share a hash slot (see auxKey).
import type {RedisClient} from './connection.js'

export interface ScriptDef {
  name: string
  /** Left out: a call passes its number of keys first, then the keys (as EVAL does). */
  keys?: number
  lua: string
}

const defined = new WeakMap<RedisClient, Set<string>>()

type Callable = (...args: (string | Buffer | number)[]) => Promise<unknown>

/** Makes `def` a command of `client` (also of its pipelines: pipe[def.name](...keys, ...args)). */
export function defineScript(client: RedisClient, def: ScriptDef): void {
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
  defineScript(client, def)
  const fn = (client as unknown as Record<string, Callable>)[buffers ? `${def.name}Buffer` : def.name]!
  return fn.call(client, ...keys, ...args)
}
