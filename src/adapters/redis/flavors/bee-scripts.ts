// Bee-Queue's operations as Lua, each doing what bee-queue 2's own code does to its keys
// (lib/lua/*.lua and the MULTIs in lib/queue.js, lib/job.js), so that bee-queue workers and
// producers on the same queue see the usual state. Keys are <prefix>:<queue>:<suffix>.
import type {ScriptDef} from '../scripts.js'

/** The keys of one queue. */
export {beeKeys} from './detect.js'

// addJob.lua / addDelayedJob.lua for a batch. KEYS: id, jobs, waiting, delayed, earlierDelayed.
// ARGV: (custom id or '', job JSON, due time ms or 0) per job. A duplicate id is not added.
export const BEE_ADD: ScriptDef = {
  name: 'queuectlBeeAdd',
  keys: 5,
  lua: `local out = {}
for i = 1, #ARGV, 3 do
  local jobId = ARGV[i]
  if jobId == '' then jobId = '' .. redis.call('incr', KEYS[1]) end
  if redis.call('hexists', KEYS[2], jobId) == 0 then
    redis.call('hset', KEYS[2], jobId, ARGV[i + 1])
    local at = tonumber(ARGV[i + 2])
    if at > 0 then
      redis.call('zadd', KEYS[4], at, jobId)
      if redis.call('zrange', KEYS[4], 0, 0)[1] == jobId then redis.call('publish', KEYS[5], ARGV[i + 2]) end
    else
      redis.call('lpush', KEYS[3], jobId)
    end
  end
  out[#out + 1] = jobId
end
return out`,
}

// A worker's BRPOPLPUSH waiting → active, n times without blocking, with each job's JSON ('' when gone).
// KEYS: waiting, active, jobs. ARGV: n.
export const BEE_FETCH: ScriptDef = {
  name: 'queuectlBeeFetch',
  keys: 3,
  lua: `local out = {}
for i = 1, tonumber(ARGV[1]) do
  local id = redis.call('rpoplpush', KEYS[1], KEYS[2])
  if not id then break end
  out[#out + 1] = id
  out[#out + 1] = redis.call('hget', KEYS[3], id) or ''
end
return out`,
}

// Queue#_finishJob for a job this consumer still holds (still in active; else 0, untouched).
// KEYS: active, stalling, jobs, destination, channel. ARGV: id, job JSON, how ('set' | 'front' |
// 'back' | 'zset'), zset score, message to publish ('' for none).
export const BEE_SETTLE: ScriptDef = {
  name: 'queuectlBeeSettle',
  keys: 5,
  lua: `if redis.call('lrem', KEYS[1], 0, ARGV[1]) == 0 then return 0 end
redis.call('srem', KEYS[2], ARGV[1])
redis.call('hset', KEYS[3], ARGV[1], ARGV[2])
local how = ARGV[3]
if how == 'set' then redis.call('sadd', KEYS[4], ARGV[1])
elseif how == 'front' then redis.call('rpush', KEYS[4], ARGV[1])
elseif how == 'back' then redis.call('lpush', KEYS[4], ARGV[1])
else redis.call('zadd', KEYS[4], ARGV[4], ARGV[1]) end
if ARGV[5] ~= '' then redis.call('publish', KEYS[5], ARGV[5]) end
return 1`,
}

// checkStalledJobs.lua: at most once per stall interval (stallBlock), jobs still in `stalling`
// (no worker removed them since the last check) go from active back to waiting; then `stalling`
// becomes a copy of active. KEYS: stallBlock, stalling, waiting, active. ARGV: interval ms.
export const BEE_CHECK_STALLED: ScriptDef = {
  name: 'queuectlBeeCheckStalled',
  keys: 4,
  lua: `if not redis.call('set', KEYS[1], '1', 'PX', tonumber(ARGV[1]), 'NX') then return {} end
local stalled = {}
for _, id in ipairs(redis.call('smembers', KEYS[2])) do
  if redis.call('lrem', KEYS[4], 0, id) > 0 then
    stalled[#stalled + 1] = id
    redis.call('lpush', KEYS[3], id)
  end
end
redis.call('del', KEYS[2])
for _, id in ipairs(redis.call('lrange', KEYS[4], 0, -1)) do redis.call('sadd', KEYS[2], id) end
return stalled`,
}

// raiseDelayedJobs.lua: due delayed jobs to waiting. KEYS: delayed, waiting. ARGV: now ms.
export const BEE_RAISE_DELAYED: ScriptDef = {
  name: 'queuectlBeeRaiseDelayed',
  keys: 2,
  lua: `local due = redis.call('zrangebyscore', KEYS[1], 0, ARGV[1], 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  redis.call('zrem', KEYS[1], id)
  redis.call('lpush', KEYS[2], id)
end
return #due`,
}

// Job#retry: a failed job back to waiting (only if it is still failed). KEYS: failed, waiting. ARGV: id.
export const BEE_RETRY: ScriptDef = {
  name: 'queuectlBeeRetry',
  keys: 2,
  lua: `if redis.call('srem', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('lpush', KEYS[2], ARGV[1])
return 1`,
}

// Empties one state: its ids and their job data. KEYS: the state key, jobs. ARGV: its type.
export const BEE_PURGE: ScriptDef = {
  name: 'queuectlBeePurge',
  keys: 2,
  lua: `local ids
if ARGV[1] == 'list' then ids = redis.call('lrange', KEYS[1], 0, -1)
elseif ARGV[1] == 'zset' then ids = redis.call('zrange', KEYS[1], 0, -1)
else ids = redis.call('smembers', KEYS[1]) end
for i = 1, #ids, 1000 do redis.call('hdel', KEYS[2], unpack(ids, i, math.min(i + 999, #ids))) end
redis.call('del', KEYS[1])
return #ids`,
}
