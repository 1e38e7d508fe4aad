#!/usr/bin/env node
// CPU used by `queue top` watching 100 Redis queues refreshed every second, while traffic keeps
// their counts changing (so every refresh repaints). Runs the built bin in tmux (a real terminal,
// 120x40), lets it settle, then reads its utime+stime from /proc over a window.
// Usage: node bench/top-cpu.mjs [seconds=30] [intervalMs=1000]   (builds its own copy; Redis db 14)
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {loadavg} from 'node:os'
import {churn, privateBuild, seedQueues} from './top-lib.mjs'

const seconds = Number(process.argv[2] ?? 30)
const intervalMs = Number(process.argv[3] ?? 1000)
const URL_ = 'redis://127.0.0.1:6379/14'
const session = `queuectl-top-cpu-${process.pid}`
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim())

const build = privateBuild('bundled', true)
const registry = `${build}dist/adapters/registry.js`
const names = await seedQueues(registry, URL_, 100)
const stopChurn = await churn(registry, URL_, names, 10)

const tmux = (...args) => execFileSync('tmux', args, {encoding: 'utf8'})
const cpuTicks = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime (fields 14 and 15 of stat)
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '40', `exec ${process.execPath} ${build}bin/run.js top --url ${URL_} --interval ${intervalMs}ms`)
try {
  const pid = Number(tmux('display-message', '-p', '-t', session, '#{pane_pid}').trim())
  for (let i = 0; i < 300 && !tmux('capture-pane', '-p', '-t', session).includes('TOTAL (100)'); i++) await sleep(100)
  await sleep(5000) // past start-up and the JIT's warm-up
  const t0 = performance.now()
  const c0 = cpuTicks(pid)
  await sleep(seconds * 1000)
  const used = (cpuTicks(pid) - c0) / CLK_TCK
  const wall = (performance.now() - t0) / 1000
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024
  const screen = tmux('capture-pane', '-p', '-t', session)
  if (!screen.includes('TOTAL (100)')) throw new Error(`top is not showing 100 queues:\n${screen}`)
  console.log(`queue top, 100 Redis queues, --interval ${intervalMs}ms, ~100 enqueues/s of traffic, ${wall.toFixed(0)} s window; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`)
  console.log(`CPU: ${((used / wall) * 100).toFixed(1)}% of one core (${used.toFixed(2)} s user+sys)   RSS: ${rss.toFixed(0)} MiB`)
} finally {
  tmux('kill-session', '-t', session)
  await stopChurn()
}
