// Raw-client yardsticks for the operations `queue enqueue`, `import`, `move` and `work` (bench/wire-ops.mjs
// times each as a whole process, start to exit, beside the `queue` command doing the same):
//   enqueue  the lines of an NDJSON file, each line's bytes one message, sent with the client's bulk
//            API in batches of 500 (`queue enqueue`'s --batch-size), several batches in flight
//   import   the lines of a `queue export` file, each line's payload one message, batches of 100
//   move     N messages from one queue to another: a batch of deliveries (prefetch 100, `queue
//            move`'s --batch-size) published to the destination, confirmed, then acked at the source
//   work     N messages consumed with prefetch 64 by a handler that does nothing, each acked
// Brokers: redis (list), amqp (classic, noDelay, confirms, multiple acks), nats (JetStream), pgboss.
// Run: node bench/wire/ops.mjs '{"broker":"amqp","op":"move","url":"amqp://…","queue":"a","to":"b","count":20000}'
import {createReadStream} from 'node:fs'
import {createInterface} from 'node:readline'

const o = JSON.parse(process.argv[2])
const clients = {redis, amqp, nats, pgboss}

/**
 * Each client: send(queue, buffers) confirmed; drain(queue, count, prefetch, handle(buffers) → Promise)
 * acks after handle; create(queue) / remove(queue) (untimed set-up: a queue as `queue … --create`
 * makes it); close().
 */
async function redis() {
  const {default: IORedis} = await import('ioredis')
  const r = new IORedis(o.url)
  r.defineCommand('wireFetch', {
    numberOfKeys: 3,
    lua: `local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  redis.call('ZADD', KEYS[3], ARGV[2], v)
  out[#out + 1] = v
end
return out`,
  })
  return {
    send: (queue, buffers) => r.lpush(queue, ...buffers),
    create: (queue) => r.sadd('queuectl:lists', queue),
    remove: async (queue) => {
      await r.del(queue, `{${queue}}:processing`, `{${queue}}:leases`, `{${queue}}:dead`)
      await r.srem('queuectl:lists', queue)
    },
    drain: async (queue, count, prefetch, handle) => {
      const processing = `{${queue}}:processing`
      const leases = `{${queue}}:leases`
      let done = 0
      while (done < count) {
        const items = await r.wireFetchBuffer(queue, processing, leases, Math.min(prefetch, count - done), Date.now() + 30_000)
        if (items.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 1))
          continue
        }
        await handle(items)
        const pipe = r.pipeline()
        for (const v of items) pipe.lrem(processing, 1, v).zrem(leases, v)
        await pipe.exec()
        done += items.length
      }
    },
    close: async () => r.disconnect(),
  }
}

async function amqp() {
  const {default: lib} = await import('amqplib')
  const {randomUUID} = await import('node:crypto')
  const url = new URL(o.url)
  const conn = await lib.connect({protocol: 'amqp', hostname: url.hostname, port: Number(url.port || 5672), username: decodeURIComponent(url.username || 'guest'), password: decodeURIComponent(url.password || 'guest')}, {noDelay: true})
  const pub = await conn.createConfirmChannel()
  const admin = await conn.createChannel()
  return {
    create: (queue) => admin.assertQueue(queue, {durable: true}),
    remove: (queue) => admin.deleteQueue(queue),
    send: (queue, buffers) => {
      for (const b of buffers) pub.publish('', queue, b, {persistent: true, mandatory: true, messageId: randomUUID(), timestamp: Math.floor(Date.now() / 1000)})
      return pub.waitForConfirms()
    },
    drain: async (queue, count, prefetch, handle) => {
      const ch = await conn.createChannel()
      await ch.prefetch(prefetch)
      let done = 0
      let chain = Promise.resolve()
      let batch = []
      let finish
      const finished = new Promise((resolve) => (finish = resolve))
      // the deliveries of one turn are one batch; batches settle in order, so one multiple ack covers each
      const flush = () => {
        const msgs = batch
        batch = []
        chain = chain.then(async () => {
          await handle(msgs.map((m) => m.content))
          ch.ack(msgs.at(-1), true)
          done += msgs.length
          if (done >= count) finish()
        })
      }
      await ch.consume(queue, (m) => {
        if (!m) return
        if (batch.length === 0) setImmediate(flush)
        batch.push(m)
      })
      await finished
      await ch.close()
    },
    close: () => conn.close(),
  }
}

async function nats() {
  const {jetstream, jetstreamManager} = await import('@nats-io/jetstream')
  const {connect} = await import('@nats-io/transport-node')
  const nc = await connect({servers: new URL(o.url).host, noAsyncTraces: true})
  const js = jetstream(nc)
  const jsm = await jetstreamManager(nc)
  const {AckPolicy, RetentionPolicy, StorageType} = await import('@nats-io/jetstream')
  return {
    // what `queue … --create` makes: a work-queue stream on file storage, its durable pull consumer
    create: async (queue) => {
      await jsm.streams.add({name: queue, subjects: [queue], retention: RetentionPolicy.Workqueue, storage: StorageType.File})
      await jsm.consumers.add(queue, {durable_name: 'queuectl', ack_policy: AckPolicy.Explicit})
    },
    remove: (queue) => jsm.streams.delete(queue),
    send: (queue, buffers) => Promise.all(buffers.map((b) => js.publish(queue, b))),
    drain: async (queue, count, prefetch, handle) => {
      const c = await js.consumers.get(queue, 'queuectl')
      let done = 0
      let chain = Promise.resolve()
      let batch = []
      let finish
      const finished = new Promise((resolve) => (finish = resolve))
      const flush = () => {
        const msgs = batch
        batch = []
        chain = chain.then(async () => {
          await handle(msgs.map((m) => m.data))
          for (const m of msgs) m.ack()
          done += msgs.length
          if (done >= count) finish()
        })
      }
      const msgs = await c.consume({max_messages: prefetch, callback: (m) => {
        if (batch.length === 0) setImmediate(flush)
        batch.push(m)
      }})
      await finished
      await nc.flush()
      await msgs.close()
    },
    close: () => nc.close(),
  }
}

async function pgboss() {
  const {default: PgBoss} = await import('pg-boss')
  const boss = new PgBoss({connectionString: o.url, max: 4, supervise: false, schedule: false, migrate: !o.noMigrate})
  boss.on('error', () => {})
  await boss.start()
  return {
    create: (queue) => boss.createQueue(queue),
    remove: (queue) => boss.deleteQueue(queue),
    send: (queue, buffers) => boss.insert(buffers.map((b) => ({name: queue, data: {b: b.toString('base64')}}))),
    drain: async (queue, count, prefetch, handle) => {
      let done = 0
      while (done < count) {
        const jobs = await boss.fetch(queue, {batchSize: Math.min(prefetch, count - done)})
        if (!jobs?.length) {
          await new Promise((resolve) => setTimeout(resolve, 5))
          continue
        }
        await handle(jobs.map((j) => Buffer.from(j.data.b, 'base64')))
        await boss.complete(queue, jobs.map((j) => j.id))
        done += jobs.length
      }
    },
    close: () => boss.stop({graceful: false, wait: true}),
  }
}

/** Batches of `size` from the file's lines (mapped), at most 4 sends in flight (as `queue enqueue`'s chunks). */
async function sendFile(client, file, size, map) {
  const inFlight = new Set()
  let batch = []
  const flush = async () => {
    const p = client.send(o.queue, batch)
    batch = []
    inFlight.add(p)
    p.finally(() => inFlight.delete(p))
    if (inFlight.size >= 4) await Promise.race(inFlight)
  }
  for await (const line of createInterface({input: createReadStream(file), crlfDelay: Infinity})) {
    if (!line) continue
    batch.push(map(line))
    if (batch.length >= size) await flush()
  }
  if (batch.length > 0) await flush()
  await Promise.all(inFlight)
}

const client = await clients[o.broker]()
try {
  if (o.op === 'enqueue') await sendFile(client, o.file, 500, (line) => Buffer.from(line))
  else if (o.op === 'import') await sendFile(client, o.file, 100, (line) => Buffer.from(JSON.parse(line).payload))
  else if (o.op === 'move') await client.drain(o.queue, o.count, 100, (buffers) => client.send(o.to, buffers))
  else if (o.op === 'create') for (const q of o.queues) await client.create(q)
  else if (o.op === 'remove') for (const q of o.queues) await client.remove(q).catch(() => {})
  else if (o.op === 'work') await client.drain(o.queue, o.count, 64, async () => {})
  else throw new Error(`unknown op ${o.op}`)
} finally {
  await client.close()
}
