// Jobs the real bullmq package made, in every state, for the find/act tests: waiting, delayed,
// failed (a Worker threw), completed (a Worker returned a value).
import {Queue, Worker} from 'bullmq'
import {Redis} from 'ioredis'

export const FIND_REDIS = {host: '127.0.0.1', port: 6379, db: 14}
export const findUrl = `redis://127.0.0.1:6379/${FIND_REDIS.db}`

export interface Made {
  /** The BullMQ job ids by what they are. */
  ids: Record<string, string>
}

/** Tenant 42: w42 (waiting), d42 (delayed), f42 (failed), c42 (completed); tenant 7: w7, f7, c7. */
export async function makeBullJobs(name: string): Promise<Made> {
  const connection = new Redis({...FIND_REDIS, maxRetriesPerRequest: null})
  const queue = new Queue(name, {connection})
  const ids: Record<string, string> = {}
  const add = async (key: string, jobName: string, data: object, opts = {}) => {
    ids[key] = (await queue.add(jobName, data, opts)).id!
  }
  await add('f42', 'boom', {tenant: 42})
  await add('f7', 'boom', {tenant: 7})
  await add('c42', 'email', {tenant: 42})
  await add('c7', 'sms', {tenant: 7})
  const worker = new Worker(name, async (job) => {
    if (job.name === 'boom') throw new Error(`boom timeout ${job.data.tenant}`)
    return {sent: job.data.tenant}
  }, {connection: new Redis({...FIND_REDIS, maxRetriesPerRequest: null})})
  const end = Date.now() + 30_000
  while ((await queue.getFailedCount()) < 2 || (await queue.getCompletedCount()) < 2) {
    if (Date.now() > end) throw new Error('the BullMQ worker did not settle the jobs in 30 s')
    await new Promise((r) => setTimeout(r, 100))
  }
  await worker.close(true)
  await worker.disconnect()
  await add('w42', 'email', {tenant: 42, to: 'a@example.com'})
  await add('w7', 'email', {tenant: 7})
  await add('d42', 'email', {tenant: 42}, {delay: 3_600_000})
  await queue.close()
  connection.disconnect()
  return {ids}
}

export async function dropBullQueue(name: string): Promise<void> {
  const redis = new Redis(FIND_REDIS)
  for await (const keys of redis.scanStream({match: `bull:${name}:*`, count: 1000})) if ((keys as string[]).length > 0) await redis.del(...(keys as string[]))
  redis.disconnect()
}
