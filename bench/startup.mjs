#!/usr/bin/env node
// Start-up of `queue --help` and `queue inspect --url memory://` against a bare oclif command,
// interleaved in one run (the machine is noisy), median of N runs each, as ratios.
// Usage: npm run build && node bench/startup.mjs [runs=25] [BEFORE_ROOT]
// STARTUP_REDIS=redis://127.0.0.1:6379/9 adds `queue enqueue` of one message to a bare name there
// (detection over every Redis flavor: the operation rows' start-up), for BEFORE_ROOT too; the
// queue (startup-<pid>) is deleted at the end.
// BEFORE_ROOT: another built checkout (e.g. a worktree of an earlier commit), measured in the same
// interleaved run, so a change is compared before/after side by side.
import {execFileSync, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const runs = Number(process.argv[2] ?? 25)
const root = fileURLToPath(new URL('..', import.meta.url))
const bare = fileURLToPath(new URL('./bare-oclif/', import.meta.url))
execFileSync(process.execPath, [`${root}node_modules/oclif/bin/run.js`, 'manifest'], {cwd: bare, stdio: 'ignore'})

const cases = {
  'bare oclif: hello': [`${bare}bin/run.js`, 'hello'],
  'bare oclif: --help': [`${bare}bin/run.js`, '--help'],
  'queue --help': [`${root}bin/run.js`, '--help'],
  'queue inspect --url memory://': [`${root}bin/run.js`, 'inspect', '--url', 'memory://'],
  'queue enqueue q x --url memory://': [`${root}bin/run.js`, 'enqueue', 'q', 'x', '--url', 'memory://'],
}
const redis = process.env.STARTUP_REDIS
const redisQueue = `startup-${process.pid}`
if (redis) cases['queue enqueue q x --url redis://'] = [`${root}bin/run.js`, 'enqueue', redisQueue, 'x', '--url', redis]
const before = process.argv[3]
if (before) {
  const at = before.endsWith('/') ? before : `${before}/`
  cases['before: queue --help'] = [`${at}bin/run.js`, '--help']
  cases['before: queue inspect --url memory://'] = [`${at}bin/run.js`, 'inspect', '--url', 'memory://']
  if (redis) cases['before: queue enqueue q x --url redis://'] = [`${at}bin/run.js`, 'enqueue', redisQueue, 'x', '--url', redis]
}
// Each run also reports its own CPU time (user + system) at exit: on a busy machine wall-clock
// medians swing with the run queue, CPU time much less.
const CPU_HOOK = `--import=data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('QCPU '+(u.user+u.system)+'\\n')})`
const times = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
const cpu = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let i = 0; i < runs; i++) {
  for (const [name, args] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [CPU_HOOK, ...args], {stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: {...process.env, NO_COLOR: '1'}})
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`)
    times[name].push(Number(process.hrtime.bigint() - t0) / 1e6)
    cpu[name].push(Number(/QCPU (\d+)/.exec(r.stderr)?.[1]) / 1000)
  }
}
if (redis) execFileSync(process.execPath, [`${root}bin/run.js`, 'delete', redisQueue, '--url', redis, '--yes'], {stdio: 'ignore'})
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(times['bare oclif: hello'])
const cpuBase = median(cpu['bare oclif: hello'])
console.log(`runs: ${runs} each, interleaved; node ${process.version}`)
console.log('| command | median ms | vs bare oclif command | median CPU ms | CPU vs bare |')
console.log('|---|---:|---:|---:|---:|')
for (const [name, xs] of Object.entries(times)) {
  console.log(`| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / base).toFixed(2)}x | ${median(cpu[name]).toFixed(0)} | ${(median(cpu[name]) / cpuBase).toFixed(2)}x |`)
}
