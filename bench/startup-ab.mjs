#!/usr/bin/env node
// Start-up of `queue enqueue` of one message to a bare Redis name (detection over every flavor, as
// the operation rows pay it) on two built checkouts, A and B, run alternately (which goes first
// alternates too): each child's CPU (user + system) and wall time, and the median of the paired
// differences B - A, which the machine's load moves less than either median.
// Usage: npm run build && node bench/startup-ab.mjs [pairs=30] [A=/work/main] [B=.] [URL=redis://127.0.0.1:6379/9]
// The queue (ab-startup-<pid>) is deleted at the end.
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
const [,, n = '30', A = '/work/main', B = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''), url = 'redis://127.0.0.1:6379/9'] = process.argv
const HOOK = `--import=data:text/javascript,process.on('exit',()=>{const u=process.cpuUsage();process.stderr.write('QCPU '+(u.user+u.system)+'\\n')})`
const run = (root) => {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [HOOK, `${root}/bin/run.js`, 'enqueue', `ab-startup-${process.pid}`, 'x', '--url', url], {encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe']})
  if (r.status !== 0) throw new Error(r.stderr)
  return {cpu: Number(/QCPU (\d+)/.exec(r.stderr)[1]) / 1000, wall: performance.now() - t0}
}
run(A); run(B); run(A); run(B) // warm the compile cache
const a = [], b = [], d = [], dw = []
for (let i = 0; i < Number(n); i++) {
  const [x, y] = i % 2 ? [run(B), run(A)].reverse() : [run(A), run(B)]
  a.push(x.cpu); b.push(y.cpu); d.push(y.cpu - x.cpu); dw.push(y.wall - x.wall)
}
const med = (xs) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]
console.log(`${process.version} n=${n}: CPU median A ${med(a).toFixed(0)} B ${med(b).toFixed(0)} ms; paired B-A CPU median ${med(d).toFixed(1)} ms, wall ${med(dw).toFixed(1)} ms; B/A ${(med(b) / med(a)).toFixed(2)}`)
spawnSync(process.execPath, [`${B}/bin/run.js`, 'delete', `ab-startup-${process.pid}`, '--url', url, '--yes'])
