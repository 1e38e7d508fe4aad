// Yardstick: ioredis at its best for what `queue bench --url redis://…` on a stream: queue does:
// each batch one pipeline of XADDs (one write, one round trip); a consumer group read with
// XREADGROUP COUNT <free slots> BLOCK (the server wakes the reader as entries arrive: no polling),
// and the XACKs of one event-loop turn as one XACK of all their ids. ioredis: no-delay is its default.
// A second connection blocks, so the producer's writes never queue behind a blocked read.
// Run: node bench/wire/redis-stream.mjs '{"url":"redis://127.0.0.1:6379","count":20000,"size":128,"prefetch":64}'
import IORedis from 'ioredis'
import {main} from './loop.mjs'

await main(async (o) => {
  const url = o.url ?? 'redis://127.0.0.1:6379'
  const redis = new IORedis(url)
  const reader = new IORedis(url)
  const key = o.queue ?? `wt-wire:stream-${process.pid}-${Date.now()}`
  const group = 'wire'
  await redis.call('XGROUP', 'CREATE', key, group, '$', 'MKSTREAM')
  const prefetch = o.prefetch ?? 64
  return {
    send: (buffers) => {
      const pipe = redis.pipeline()
      for (const b of buffers) pipe.call('XADD', key, '*', 'payload', b)
      return pipe.exec()
    },
    consume: async (onPayload) => {
      let running = true
      let outstanding = 0
      let acks = []
      const flush = () => {
        redis.call('XACK', key, group, ...acks)
        outstanding -= acks.length
        acks = []
      }
      const loop = (async () => {
        while (running) {
          const room = prefetch - outstanding
          if (room <= 0) {
            await new Promise((resolve) => setImmediate(resolve))
            continue
          }
          const res = await reader.callBuffer('XREADGROUP', 'GROUP', group, 'c1', 'COUNT', room, 'BLOCK', 100, 'STREAMS', key, '>')
          if (!res) continue
          // one stream: ioredis's buffer reply may come as [key, entries] rather than [[key, entries]]
          const entries = Buffer.isBuffer(res[0]) ? res[1] : res[0][1]
          for (const [id, fields] of entries) {
            outstanding++
            onPayload(fields[1])
            if (acks.length === 0) setImmediate(flush)
            acks.push(id)
          }
        }
      })()
      return async () => {
        running = false
        await loop
      }
    },
    close: async () => {
      await redis.del(key)
      reader.disconnect()
      redis.disconnect()
    },
  }
})
