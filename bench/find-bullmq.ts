// `queue find` over many BullMQ jobs against BullMQ's own fastest way to the same answer: its
// getters (Queue.getJobs over the states, then a filter in JS), on a queue filled and obliterated
// here; 5 runs each, medians. Each side runs as its own process (start-up included; peak RSS by GNU
// time), then in this process (the scan alone).
// Run: npm run build && npx tsx bench/find-bullmq.ts [jobs=100000] [redis=127.0.0.1:6379] [db=12]
// The queue: 45% waiting, 35% completed, 20% failed (a real Worker completes or fails them);
// data {tenant: i % 997, seq, body: 100 × "x"}. The searches: failed jobs of tenant 42, and jobs of
// tenant 42 in every state (`body.tenant == 42`, pushed down to Redis; a range, which is not).
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'
import {Queue, Worker} from 'bullmq'

const N = Number(process.argv[2] ?? 100_000)
const HOST = process.argv[3] ?? '127.0.0.1:6379'
const DB = Number(process.argv[4] ?? 12)
const RUNS = 5
const NAME = `qc-findbench-${process.pid}`
const URL_ = `redis://${HOST}/${DB}`
const [host, port] = HOST.split(':') as [string, string]
const connection = {host, port: Number(port), db: DB}
const exec = promisify(execFile)
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'completed', 'failed'] as const

async function timed(what: string, run: () => Promise<{found: number; kb?: number}>): Promise<void> {
  const ms: number[] = []
  let found = 0
  let kb = 0
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    const r = await run()
    ms.push(performance.now() - t)
    found = r.found
    kb = Math.max(kb, r.kb ?? 0)
  }
  console.log(`| ${what} | ${found} | ${median(ms).toFixed(0)} | ${Math.min(...ms).toFixed(0)}–${Math.max(...ms).toFixed(0)} | ${kb ? `${(kb / 1024).toFixed(0)} MB` : '-'} |`)
}

/** A process under GNU time: its stdout lines and peak RSS (kB, the last line of stderr). */
async function measured(args: string[]): Promise<{found: number; kb: number}> {
  const {stdout, stderr} = await exec('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {maxBuffer: 1 << 30})
  return {found: stdout.trim() === '' ? 0 : stdout.trim().split('\n').length, kb: Number(stderr.trim().split('\n').at(-1))}
}

// BullMQ's getters in a fresh process: one line per match, as find --json prints
const getterScript = (states: readonly string[]) => `
import {Queue} from 'bullmq'
const q = new Queue(${JSON.stringify(NAME)}, {connection: ${JSON.stringify(connection)}})
const jobs = await q.getJobs(${JSON.stringify(states)}, 0, -1)
for (const j of jobs) if (j && j.data.tenant === 42) process.stdout.write(JSON.stringify({id: j.id, data: j.data}) + '\\n')
await q.close()`

async function fill(queue: Queue): Promise<void> {
  const data = (i: number) => ({tenant: i % 997, seq: i, body: 'x'.repeat(100)})
  const batch = 1000
  process.stderr.write(`filling ${N} BullMQ jobs…\n`)
  // the jobs a Worker settles first (55%), then the waiting ones
  const settled = Array.from({length: N}, (_, i) => i).filter((i) => i % 100 >= 45)
  for (let s = 0; s < settled.length; s += batch) await queue.addBulk(settled.slice(s, s + batch).map((i) => ({name: 'job', data: data(i)})))
  let done = 0
  const worker = new Worker(NAME, async (job) => {
    if ((job.data as {seq: number}).seq % 100 >= 80) throw new Error('smtp timeout')
    return true
  }, {connection, concurrency: 200})
  worker.on('completed', () => void done++)
  worker.on('failed', () => void done++)
  while (done < settled.length) await new Promise((resolve) => setTimeout(resolve, 200))
  await worker.close()
  const waiting = Array.from({length: N}, (_, i) => i).filter((i) => i % 100 < 45)
  for (let s = 0; s < waiting.length; s += batch) await queue.addBulk(waiting.slice(s, s + batch).map((i) => ({name: 'job', data: data(i)})))
  const counts = await queue.getJobCounts('waiting', 'completed', 'failed')
  process.stderr.write(`filled: ${JSON.stringify(counts)}\n`)
}

const queue = new Queue(NAME, {connection})
try {
  await fill(queue)
  // the built code, as the CLI runs it
  const dist = (path: string) => import(new URL(`../dist/${path}`, import.meta.url).href)
  const {createBroker} = (await dist('adapters/registry.js')) as typeof import('../src/adapters/registry.js')
  const {compileWhere} = (await dist('services/find/expression.js')) as typeof import('../src/services/find/expression.js')
  const {findJobs} = (await dist('services/find/find.js')) as typeof import('../src/services/find/find.js')
  const broker = await createBroker(URL_, {timeoutMs: 60_000})
  await broker.connect()
  // BullMQ's failed jobs are queuectl's dead state
  const inProcess = (where: string, states?: 'dead'[]) => async () => {
    let found = 0
    await findJobs(broker, [`bullmq:${NAME}`], {where: await compileWhere(where), states, scan: N, onMatch: () => void found++})
    return {found}
  }
  const getters = (states: readonly string[]) => async () => {
    const jobs = await queue.getJobs(states as never, 0, -1)
    return {found: jobs.filter((j) => j && (j.data as {tenant: number}).tenant === 42).length}
  }
  const cli = (where: string, state?: string) => () => measured(['bin/run.js', 'find', `bullmq:${NAME}`, ...(state ? ['--state', state] : []), '--where', where, '--scan', String(N), '--json', '--url', URL_])
  const script = (states: readonly string[]) => () => measured(['--input-type=module', '-e', getterScript(states)])

  console.log(`| what (${N} BullMQ jobs) | found | median ms | min–max ms | peak RSS |\n|---|---:|---:|---:|---:|`)
  await timed('failed, tenant 42: BullMQ `getJobs([\'failed\'])` + filter in JS (own process)', script(['failed']))
  await timed('failed, tenant 42: `queue find --state failed --where \'body.tenant == 42\'` (whole CLI process)', cli('body.tenant == 42', 'failed'))
  await timed('every state, tenant 42: BullMQ `getJobs(all states)` + filter in JS (own process)', script(STATES))
  await timed('every state, tenant 42: `queue find --where \'body.tenant == 42\'` (whole CLI process)', cli('body.tenant == 42'))
  // a range is not an equality: nothing is pushed down, every job is read and tested in queuectl
  await timed('failed, tenant 42: `queue find --state failed --where \'body.tenant > 41 && body.tenant < 43\'` (not pushed down; whole CLI process)', cli('body.tenant > 41 && body.tenant < 43', 'failed'))
  await timed('every state, tenant 42: `queue find --where \'body.tenant > 41 && body.tenant < 43\'` (not pushed down; whole CLI process)', cli('body.tenant > 41 && body.tenant < 43'))
  await timed('failed, tenant 42: `getJobs([\'failed\'])` + filter (in process)', getters(['failed']))
  await timed('failed, tenant 42: `findJobs` (in process)', inProcess('body.tenant == 42', ['dead']))
  await timed('every state, tenant 42: `getJobs(all states)` + filter (in process)', getters(STATES))
  await timed('every state, tenant 42: `findJobs` (in process)', inProcess('body.tenant == 42'))
  await broker.close()
} finally {
  await queue.obliterate({force: true})
  await queue.close()
}
