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
const clients = {redis, amqp, nats, pgboss, 'redis-stream': redisStream, bullmq, sqs, graphile, kafka, bull, bee}

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
    // ?queueType=quorum|stream on the URL: the x-queue-type argument (`queue create --type`)
    create: (queue) => admin.assertQueue(queue, {durable: true, arguments: url.searchParams.get('queueType') ? {'x-queue-type': url.searchParams.get('queueType')} : {}}),
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

// More yardsticks (hoisted: registered in `clients` above). Job libraries that keep JSON data
// (BullMQ, Bull, Bee-Queue, graphile-worker) get each line parsed, as `queue` stores a JSON payload;
// a move hands the library's own data on untouched.
function dataOf(x) {
  return Buffer.isBuffer(x) ? JSON.parse(x) : x
}

/** The deliveries of one event-loop turn as one batch: handle(items) once, every processor resolves with it. */
function turnBatcher(handle, onDone) {
  let current
  return (item) => {
    if (!current) {
      const items = []
      const settled = new Promise((resolve) => setImmediate(resolve)).then(() => {
        current = undefined
        return handle(items)
      })
      current = {items, settled}
    }
    current.items.push(item)
    return current.settled.then(() => onDone(1))
  }
}

/** A promise resolved once `count` items are done, and the counter to call. */
function counter(count) {
  let done = 0
  let finish
  const finished = new Promise((resolve) => (finish = resolve))
  return {finished, add: (n) => {
    done += n
    if (done >= count) finish()
  }}
}

// Redis stream, as the `stream` flavor lays it out: the queue is the stream key, read by the group
// `queuectl`; each batch one pipeline of XADDs; XREADGROUP COUNT prefetch, the batch's ids in one
// XACK sent before the next read on the same connection (pipelined, not awaited).
async function redisStream() {
  const {default: IORedis} = await import('ioredis')
  const r = new IORedis(o.url)
  const group = 'queuectl'
  return {
    create: (queue) => r.call('XGROUP', 'CREATE', queue, group, '0', 'MKSTREAM'),
    remove: (queue) => r.del(queue, `{${queue}}:dead`),
    send: (queue, buffers) => {
      const pipe = r.pipeline()
      for (const b of buffers) pipe.call('XADD', queue, '*', 'payload', b)
      return pipe.exec()
    },
    drain: async (queue, count, prefetch, handle) => {
      let done = 0
      let acked
      while (done < count) {
        const res = await r.callBuffer('XREADGROUP', 'GROUP', group, 'c1', 'COUNT', Math.min(prefetch, count - done), 'BLOCK', 100, 'STREAMS', queue, '>')
        if (!res) continue
        // one stream: ioredis's buffer reply may come as [key, entries] rather than [[key, entries]]
        const entries = Buffer.isBuffer(res[0]) ? res[1] : res[0][1]
        await handle(entries.map(([, fields]) => fields[1]))
        acked = r.call('XACK', queue, group, ...entries.map(([id]) => id))
        done += entries.length
      }
      await acked
    },
    close: async () => r.disconnect(),
  }
}

// BullMQ: Queue.addBulk per batch; a BullMQ Worker (concurrency = prefetch) whose processor
// resolves once its turn's batch is handled (a move: one addBulk to the destination), so BullMQ
// completes each job and fetches the next in one moveToFinished, its own fast path.
async function bullmq() {
  const {Queue, Worker} = await import('bullmq')
  const {default: IORedis} = await import('ioredis')
  const conn = new IORedis(o.url, {maxRetriesPerRequest: null})
  const queues = new Map()
  const queueOf = (name) => {
    if (!queues.has(name)) queues.set(name, new Queue(name, {connection: conn}))
    return queues.get(name)
  }
  return {
    // BullMQ writes the queue's meta on first use (what `queue create` lets it do)
    create: (queue) => queueOf(queue).getJobCounts('wait'),
    remove: (queue) => queueOf(queue).obliterate({force: true}),
    send: (queue, items) => queueOf(queue).addBulk(items.map((x) => ({name: 'default', data: dataOf(x)}))),
    drain: async (queue, count, prefetch, handle) => {
      const workerConn = new IORedis(o.url, {maxRetriesPerRequest: null})
      const c = counter(count)
      const processor = turnBatcher(handle, c.add)
      const worker = new Worker(queue, (job) => processor(job.data), {connection: workerConn, concurrency: prefetch})
      await c.finished
      await worker.close()
      workerConn.disconnect()
    },
    close: async () => {
      await Promise.all([...queues.values()].map((q) => q.close()))
      conn.disconnect()
    },
  }
}

// SQS (the fauxqs emulator at o.url, its endpoint): bodies as text, as queuectl sends JSON lines;
// each batch as SendMessageBatch calls of 10, 10 calls in flight; ceil(prefetch / 10) long polls
// (ReceiveMessage up to 10, WaitTimeSeconds 1), each handled then deleted in DeleteMessageBatch calls.
async function sqs() {
  const sdk = await import('@aws-sdk/client-sqs')
  const client = new sdk.SQSClient({endpoint: o.url, region: 'us-east-1', credentials: {accessKeyId: 'test', secretAccessKey: 'test'}})
  const urls = new Map()
  const urlOf = async (name) => {
    if (!urls.has(name)) urls.set(name, (await client.send(new sdk.GetQueueUrlCommand({QueueName: name}))).QueueUrl)
    return urls.get(name)
  }
  const sendBatch = async (QueueUrl, buffers) => {
    const r = await client.send(new sdk.SendMessageBatchCommand({QueueUrl, Entries: buffers.map((b, k) => ({Id: String(k), MessageBody: b.toString()}))}))
    if (r.Failed?.length) throw new Error(`SendMessageBatch: ${r.Failed[0].Message}`)
  }
  return {
    create: (queue) => client.send(new sdk.CreateQueueCommand({QueueName: queue})),
    remove: async (queue) => client.send(new sdk.DeleteQueueCommand({QueueUrl: await urlOf(queue)})),
    send: async (queue, buffers) => {
      const url = await urlOf(queue)
      const tens = []
      for (let i = 0; i < buffers.length; i += 10) tens.push(buffers.slice(i, i + 10))
      const lane = async () => {
        for (let t = tens.shift(); t; t = tens.shift()) await sendBatch(url, t)
      }
      await Promise.all(Array.from({length: 10}, lane))
    },
    drain: async (queue, count, prefetch, handle) => {
      const QueueUrl = await urlOf(queue)
      let taken = 0
      const poll = async () => {
        while (taken < count) {
          const want = Math.min(10, count - taken)
          const got = (await client.send(new sdk.ReceiveMessageCommand({QueueUrl, MaxNumberOfMessages: want, WaitTimeSeconds: 1}))).Messages ?? []
          taken += got.length
          if (got.length === 0) continue
          await handle(got.map((m) => Buffer.from(m.Body)))
          await client.send(new sdk.DeleteMessageBatchCommand({QueueUrl, Entries: got.map((m, k) => ({Id: String(k), ReceiptHandle: m.ReceiptHandle}))}))
        }
      }
      await Promise.all(Array.from({length: Math.ceil(prefetch / 10)}, poll))
    },
    close: async () => client.destroy(),
  }
}

// graphile-worker 0.17: workerUtils.addJobs per batch (the queue is the task identifier); its
// runner with concurrency = prefetch and the batching of its performance docs (localQueue.size
// concurrency + 1, completeJobBatchDelay 0); a move's jobs of one turn are one addJobs.
async function graphile() {
  const {makeWorkerUtils, run, Logger} = await import('graphile-worker')
  const utils = await makeWorkerUtils({connectionString: o.url})
  return {
    // what `queue create` makes: the task row (the schema installed by the library)
    create: async (queue) => {
      await utils.migrate()
      await utils.withPgClient((c) => c.query('INSERT INTO graphile_worker._private_tasks (identifier) VALUES ($1) ON CONFLICT DO NOTHING', [queue]))
    },
    remove: (queue) =>
      utils.withPgClient(async (c) => {
        await c.query('DELETE FROM graphile_worker._private_jobs j USING graphile_worker._private_tasks t WHERE j.task_id = t.id AND t.identifier = $1', [queue])
        await c.query('DELETE FROM graphile_worker._private_tasks WHERE identifier = $1', [queue])
      }),
    send: (queue, items) => utils.addJobs(items.map((x) => ({identifier: queue, payload: dataOf(x)}))),
    drain: async (queue, count, prefetch, handle) => {
      const c = counter(count)
      const processor = turnBatcher(handle, c.add)
      const preset = {worker: {connectionString: o.url, concurrentJobs: prefetch, localQueue: {size: prefetch + 1}, completeJobBatchDelay: 0, pollInterval: 2000}}
      const runner = await run({preset, concurrency: prefetch, noHandleSignals: true, logger: new Logger(() => () => {}), taskList: {[queue]: (payload) => processor(payload)}})
      await c.finished
      await runner.stop()
    },
    close: () => utils.release(),
  }
}

// Kafka (@platformatic/kafka), the consumer-group flavor: a one-partition topic; each batch one
// idempotent produce (acks=all), one at a time; the group (?group= on the URL, else queuectl) consumes from its
// committed offset (else the earliest); the records of one turn handled, then their offset committed.
async function kafka() {
  const {Admin, Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer} = await import('@platformatic/kafka')
  const url = new URL(o.url)
  const bootstrapBrokers = [url.host]
  const group = url.searchParams.get('group') ?? 'queuectl'
  const admin = new Admin({clientId: 'wire-ops-admin', bootstrapBrokers})
  let producer
  let sending = Promise.resolve()
  const producerOf = () => (producer ??= new Producer({clientId: 'wire-ops-producer', bootstrapBrokers, idempotent: true, acks: -1}))
  return {
    create: (queue) => admin.createTopics({topics: [queue], partitions: 1, replicas: 1}),
    remove: async (queue) => {
      await admin.deleteTopics({topics: [queue]})
      await admin.deleteGroups({groups: [group]}).catch(() => {})
    },
    // one produce in flight: @platformatic/kafka 1.35's idempotent producer gives concurrent sends the
    // same sequence numbers (the broker drops the second as a duplicate, or answers OUT_OF_ORDER_SEQUENCE_NUMBER)
    // a turn's records (a move hands a whole fetch) go in requests of at most 1,000, as queuectl's
    // send queue joins them: one request of them all passed the broker's 1 MiB message.max.bytes
    send: (queue, buffers) => {
      const parts = []
      for (let i = 0; i < buffers.length; i += 1000) {
        const part = buffers.slice(i, i + 1000)
        parts.push((sending = sending.catch(() => {}).then(() => producerOf().send({messages: part.map((value) => ({topic: queue, value}))}))))
      }
      return Promise.all(parts)
    },
    drain: async (queue, count, prefetch, handle) => {
      const consumer = new Consumer({clientId: 'wire-ops-consumer', groupId: group, bootstrapBrokers, maxWaitTime: 100, autocommit: false})
      const stream = await consumer.consume({topics: [queue], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false})
      const c = counter(count)
      let chain = Promise.resolve()
      let batch = []
      const flush = () => {
        const msgs = batch
        batch = []
        chain = chain.then(async () => {
          await handle(msgs.map((m) => m.value))
          const last = msgs.at(-1)
          await consumer.commit({offsets: [{topic: queue, partition: last.partition, offset: last.offset + 1n, leaderEpoch: -1}]})
          c.add(msgs.length)
        })
      }
      stream.on('data', (m) => {
        if (batch.length === 0) setImmediate(flush)
        batch.push(m)
      })
      await c.finished
      await stream.close()
      await consumer.close(true)
    },
    close: async () => {
      await producer?.close()
      await admin.close()
    },
  }
}

// Bull 4: Queue.addBulk per batch; queue.process(concurrency = prefetch) (moveToActive, then
// moveToFinished fetching the next); done jobs kept in `completed`, as queuectl's ack keeps them.
async function bull() {
  const {default: Queue} = await import('bull')
  const queues = new Map()
  const queueOf = (name) => {
    if (!queues.has(name)) queues.set(name, new Queue(name, o.url, {settings: {drainDelay: 1}}))
    return queues.get(name)
  }
  return {
    // bull has no create: its job counter at 0 marks the queue (what `queue create` writes)
    create: (queue) => queueOf(queue).client.setnx(`bull:${queue}:id`, '0'),
    remove: (queue) => queueOf(queue).obliterate({force: true}),
    send: (queue, items) => queueOf(queue).addBulk(items.map((x) => ({data: dataOf(x)}))),
    drain: async (queue, count, prefetch, handle) => {
      const c = counter(count)
      const processor = turnBatcher(handle, c.add)
      // a Queue of its own: close() ends its processing without closing the destination's
      const worker = new Queue(queue, o.url, {settings: {drainDelay: 1}})
      void worker.process(prefetch, (job) => processor(job.data))
      await c.finished
      await worker.close()
    },
    close: () => Promise.all([...queues.values()].map((q) => q.close())),
  }
}

// Bee-Queue 2: saveAll per batch (its pipelined bulk save); process(concurrency = prefetch); done
// jobs kept in `succeeded` with their event published (bee's defaults, as queuectl's ack);
// storeJobs/getEvents off (its README's throughput advice).
async function bee() {
  const {default: Bee} = await import('bee-queue')
  const settings = {redis: {url: o.url}, getEvents: false, storeJobs: false}
  const queues = new Map()
  const queueOf = (name) => {
    if (!queues.has(name)) queues.set(name, new Bee(name, {...settings, isWorker: false}))
    return queues.get(name)
  }
  return {
    // bee-queue has no create: its job counter at 0 marks the queue (what `queue create` writes)
    create: async (queue) => {
      const q = queueOf(queue)
      await q.ready()
      await new Promise((resolve, reject) => q.client.setnx(`bq:${queue}:id`, '0', (err) => (err ? reject(err) : resolve())))
    },
    remove: (queue) => queueOf(queue).destroy(),
    send: (queue, items) => {
      const q = queueOf(queue)
      return q.saveAll(items.map((x) => q.createJob(dataOf(x))))
    },
    drain: async (queue, count, prefetch, handle) => {
      const c = counter(count)
      const processor = turnBatcher(handle, c.add)
      const worker = new Bee(queue, settings)
      worker.process(prefetch, (job) => processor(job.data))
      await c.finished
      await worker.close(5000)
    },
    close: () => Promise.all([...queues.values()].map((q) => q.close())),
  }
}
