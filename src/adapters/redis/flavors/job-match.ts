// A peek's PeekMatch pushed down to Redis for the job libraries whose job hashes hold `name` and
// `data` (BullMQ, Bull): a read-only script walks one list or zset a chunk at a time and returns
// only the ids whose job can match, so a search ships matches rather than every job. A prefilter:
// whatever the script cannot decide as the CEL evaluation would, it keeps for the caller's test.
import type {PeekMatch} from '../../../broker/contract.js'
import {runScript, type ScriptDef} from '../scripts.js'
import type {FlavorContext} from '../flavor.js'

/** Jobs one script call examines: bounds how long one call holds Redis. */
export const MATCH_CHUNK = 1000

/** How a key lists its ids in peek order: a list oldest first (from its tail), a zset by score up or down. */
export type MatchOrder = 'list' | 'asc' | 'desc'

// KEYS[1] the list or zset; ARGV: the job key prefix (<prefix>:<queue>:), the order, the first
// position, how many positions, how many matches are still wanted, the conditions as JSON, the
// library's default job name (Bull's `__default__`, read as no name but shown raw when undecodable),
// '1' to skip BullMQ 4's `0:<delay>` markers in its lists, the last id the previous call examined.
// Returns {the next position, 1 when the key ended, the last id examined, matching id…}. Data that cjson cannot decode never matches a body condition,
// except where JSON.parse would read it (a lone surrogate escape, deep nesting): kept for the caller.
// A string `data` is undecided (queuectl stores non-JSON text as a string, read back as the body).
export const MATCH_IDS: ScriptDef = {
  name: 'queuectlMatchIds',
  keys: 1,
  lua: `
local key, base, order = KEYS[1], ARGV[1], ARGV[2]
local start, count, want = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local conds = cjson.decode(ARGV[6])
local dflt, markers = ARGV[7], ARGV[8] == '1' and order == 'list'
-- the ids at positions from..to (0 = first in peek order), in peek order
local function at(from, to)
  if order == 'asc' then return redis.call('ZRANGE', key, from, to) end
  if order == 'desc' then return redis.call('ZREVRANGE', key, from, to) end
  local got, ids = redis.call('LRANGE', key, -(to + 1), -(from + 1)), {}
  for i = #got, 1, -1 do ids[#ids + 1] = got[i] end
  return ids
end
-- the key moved since the last call (a worker took jobs, a retention trimmed, a failure landed
-- first): start after where the last id examined is now, if it is within a chunk of where it was
local last = ARGV[9]
if last ~= '' and start > 0 then
  local from = math.max(0, start - count)
  local near = at(from, start + count - 1)
  for j = 1, #near do
    if near[j] == last then
      start = from + j
      break
    end
  end
end
local ids = at(start, start + count - 1)
local function bodyOf(data)
  if not data then return false, nil end
  local ok, v = pcall(cjson.decode, data)
  if not ok then
    local e = tostring(v)
    if string.find(e, 'unicode', 1, true) or string.find(e, 'nested', 1, true) then return 'keep', nil end
    return false, nil
  end
  if type(v) == 'string' then return 'keep', nil end
  return true, v
end
local function holds(c, id, name, body)
  local p = c.path
  if p[1] == 'id' then return id == c.equals end
  if p[1] == 'name' then
    local n = name or ''
    if dflt ~= '' and n == dflt then return c.equals == '' or c.equals == dflt end
    return n == c.equals
  end
  local v = body
  for i = 2, #p do
    if type(v) ~= 'table' then return false end
    v = v[p[i]]
  end
  return type(v) == type(c.equals) and v == c.equals
end
local out = {start + #ids, #ids < count and 1 or 0, ids[#ids] or ''}
for i = 1, #ids do
  local id = ids[i]
  if not (markers and string.sub(id, 1, 2) == '0:') then
    local f = redis.call('HMGET', base .. id, 'name', 'data')
    local decoded, body = nil, nil
    local pass = true
    for _, c in ipairs(conds) do
      if c.path[1] == 'body' and decoded == nil then decoded, body = bodyOf(f[2]) end
      if c.path[1] == 'body' and decoded == 'keep' then
      elseif c.path[1] == 'body' and not decoded then pass = false
      elseif not holds(c, id, f[1], body) then pass = false end
      if not pass then break end
    end
    if pass then
      out[#out + 1] = id
      if #out - 3 >= want then
        out[1] = start + i
        out[2] = (i == #ids and #ids < count) and 1 or 0
        out[3] = id
        return out
      end
    end
  end
end
return out
`,
}

/**
 * The conditions the script decides exactly as CEL would: `id` and `name` against a string, and
 * `body…` paths (the decoded data). Any other is left to the caller. Undefined when none is left.
 */
export function scriptConditions(match: PeekMatch | undefined): PeekMatch['all'] | undefined {
  // a lone surrogate in a literal has no UTF-8 form for the script to compare with
  const all = (match?.all ?? []).filter((c) => typeof c.equals !== 'string' || !/\p{Cs}/u.test(c.equals)).filter(
    (c) => (c.path.length === 1 && (c.path[0] === 'id' || c.path[0] === 'name') && typeof c.equals === 'string') || c.path[0] === 'body',
  )
  return all.length > 0 ? all : undefined
}

/**
 * The ids, in peek order across `keys`, of at most `limit` jobs that can match `conds`, read
 * MATCH_CHUNK positions per script call. Undefined when the server refuses the script (an ACL
 * without EVAL, a Cluster slot mismatch): the caller then reads as it would without a match.
 */
export async function matchingIds(
  ctx: FlavorContext,
  jobPrefix: string,
  keys: readonly {key: string; order: MatchOrder}[],
  conds: PeekMatch['all'],
  limit: number,
  library: {defaultName?: string; markers?: boolean} = {},
  chunk = MATCH_CHUNK,
): Promise<string[] | undefined> {
  const found = new Set<string>()
  const json = JSON.stringify(conds)
  for (const {key, order} of keys) {
    for (let start = 0, last = ''; found.size < limit; ) {
      let reply: unknown[]
      try {
        reply = (await runScript(ctx.client, MATCH_IDS, [key], [jobPrefix, order, start, chunk, limit - found.size, json, library.defaultName ?? '', library.markers ? '1' : '0', last])) as unknown[]
      } catch (error) {
        // no EVAL for this user, or a Cluster where the job hashes are not in the key's slot (no hash tag)
        if (/NOPERM|non local key|CROSSSLOT/i.test((error as Error).message) && found.size === 0) return undefined
        throw error
      }
      for (const id of reply.slice(3)) if (found.size < limit) found.add(String(id))
      if (Number(reply[1]) === 1) break
      start = Number(reply[0])
      last = String(reply[2])
    }
    if (found.size >= limit) break
  }
  return [...found]
}
