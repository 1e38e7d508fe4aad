// `queue top`'s `/` on a queue's detail view, for real: the built bin in tmux against BullMQ jobs
// a real BullMQ Worker failed. The dead jobs are filtered with CEL, R retries exactly the filtered
// ones after a question that gives their count, and BullMQ's own getters see only those back.
import {Queue, Worker} from 'bullmq'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome} from '../helpers/cli.js'
import {tmuxSession} from '../helpers/tmux.js'

const DB = 13
const URL = `redis://127.0.0.1:6379/${DB}`
const name = `topwhere${process.pid}`
const session = `queuectl-top-where-${process.pid}`
const connection = {host: '127.0.0.1', port: 6379, db: DB}
const {tmux, keys, waitFor} = tmuxSession(session)
let queue: Queue

/** Types a string one key at a time, as a user would. */
async function type(text: string): Promise<void> {
  for (const ch of text) {
    keys('-l', ch)
    await new Promise((resolve) => setTimeout(resolve, 40))
  }
}

beforeAll(async () => {
  queue = new Queue(name, {connection})
  await queue.addBulk([1, 2, 1, 2, 3].map((tenant, i) => ({name: 'bill', data: {tenant, i}})))
  // every job failed by BullMQ's own Worker (one attempt each)
  const worker = new Worker(name, async () => {
    throw new Error('card declined')
  }, {connection})
  const deadline = Date.now() + 30_000
  while ((await queue.getFailedCount()) < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  await worker.close()
  const env = Object.entries({...isolatedHome(), NO_COLOR: '1'}).flatMap(([k, v]) => ['-e', `${k}=${v}`])
  tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', ...env, `node ${BIN} top --url ${URL} --interval 500ms; echo "exit=$?"; sleep 120`)
}, 60_000)

afterAll(async () => {
  try {
    tmux('kill-session', '-t', session)
  } catch {}
  await queue?.obliterate({force: true}).catch(() => {})
  await queue?.close()
})

describe('queue top: / filters a queue\'s messages, R retries exactly the filtered ones', () => {
  it('on BullMQ jobs a real Worker failed', async () => {
    expect(await queue.getFailedCount()).toBe(5)
    await waitFor((t) => t.includes('TOTAL ('), 'the queue list', 60_000)
    keys(':')
    await type(`bullmq:${name}`)
    keys('Enter')
    await waitFor((t) => t.includes(`bullmq:${name} (`) && /Esc back.*R retry/.test(t), 'the queue detail with its keys')
    // Tab to the failed (dead) jobs: waiting, delayed, dead
    keys('Tab')
    await waitFor((t) => t.includes('DELAYED MESSAGES'), 'the delayed jobs')
    keys('Tab')
    await waitFor((t) => t.includes('DEAD MESSAGES') && t.includes('"i":4'), 'the failed jobs')

    // a mistake shows with its column in the prompt line and is not applied
    keys('/')
    await type('body.tenant ==')
    await waitFor((t) => /where \(CEL\): body\.tenant ==.*column \d+/.test(t), 'the mistake in the prompt')
    await type(' 2')
    keys('Enter')
    const s = await waitFor((t) => t.includes('where body.tenant == 2 (2 of 5 peeked)'), 'the filtered jobs')
    expect(s).not.toContain('"i":0')

    keys('R')
    await waitFor((t) => t.includes(`Retry 2 filtered dead jobs of "bullmq:${name}" on ${URL}`) && t.includes('[y/N]'), 'the question with the count')
    keys('y')
    await waitFor((t) => t.includes(`retried 2 messages of "bullmq:${name}"`), 'the retry')

    // BullMQ's own getters: the tenant-2 jobs wait again, the others are still failed
    const waiting = await queue.getWaiting()
    expect(waiting.map((j) => (j.data as {i: number}).i).sort()).toEqual([1, 3])
    const failed = await queue.getFailed()
    expect(failed.map((j) => (j.data as {i: number}).i).sort()).toEqual([0, 2, 4])

    keys('q')
    expect(await waitFor((t) => /exit=\d+/.test(t), 'the process to exit')).toContain('exit=0')
  }, 150_000)
})
