// Yardstick: ioredis at its best for what `queue bench --url redis://…` (a list: queue) does, the
// reliable-queue pattern of Redis's own LMOVE docs: each batch one variadic LPUSH; the consumer
// takes up to `prefetch` free slots per round trip with one Lua script (LMOVE into a processing
// list + a lease deadline in a zset, as the adapter's fetch), and the acks (LREM + ZREM) of one
// event-loop turn leave as one pipeline. An empty fetch is retried after 1 ms (no BLMOVE: it moves
// one item a call). ioredis: no-delay is its default.
// Run: node bench/wire/redis-list.mjs '{"url":"redis://127.0.0.1:6379","count":20000,"size":128,"prefetch":64}'
import IORedis from 'ioredis'
import {main} from './loop.mjs'

const FETCH = `local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  redis.call('ZADD', KEYS[3], ARGV[2], v)
  out[#out + 1] = v
end
return out`

await main(async (o) => {
  const redis = new IORedis(o.url ?? 'redis://127.0.0.1:6379')
  redis.defineCommand('wireFetch', {numberOfKeys: 3, lua: FETCH})
  const key = o.queue ?? `wt-wire:list-${process.pid}-${Date.now()}`
  const processing = `{${key}}:processing`
  const leases = `{${key}}:leases`
  const prefetch = o.prefetch ?? 64
  return {
    send: (buffers) => redis.lpush(key, ...buffers),
    consume: async (onPayload) => {
      let running = true
      let outstanding = 0
      let acks = []
      const flush = () => {
        const pipe = redis.pipeline()
        for (const v of acks) pipe.lrem(processing, 1, v).zrem(leases, v)
        outstanding -= acks.length
        acks = []
        pipe.exec()
      }
      const loop = (async () => {
        while (running) {
          const room = prefetch - outstanding
          const items = room > 0 ? await redis.wireFetchBuffer(key, processing, leases, room, Date.now() + 30_000) : []
          if (items.length === 0) {
            await new Promise((resolve) => setTimeout(resolve, 1))
            continue
          }
          outstanding += items.length
          for (const v of items) {
            onPayload(v)
            if (acks.length === 0) setImmediate(flush)
            acks.push(v)
          }
        }
      })()
      return async () => {
        running = false
        await loop
      }
    },
    close: async () => {
      await redis.del(key, processing, leases)
      redis.disconnect()
    },
  }
})
