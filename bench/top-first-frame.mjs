#!/usr/bin/env node
// Time from start to the first painted frame of `queue top`, in a pseudo-terminal (script(1)),
// against Redis with 100 queues: the bundled TUI (dist/tui/app.js, what ships) against the same
// build with the TUI left unbundled (tsc's output), and a bare oclif command for reference.
// Three moments: the first frame (the connecting screen, painted by hand before Ink loads), the
// first frame Ink paints (its synchronized-output marker), and the first frame with all 100 queues.
// Interleaved, median of N runs each: the machine is noisy, compare within one run.
// Usage: node bench/top-first-frame.mjs [runs=11]   (builds its own copies; Redis on 127.0.0.1:6379, db 14)
import {execFileSync, spawn, spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {privateBuild, root, seedQueues} from './top-lib.mjs'

const runs = Number(process.argv[2] ?? 11)
const URL_ = 'redis://127.0.0.1:6379/14'

// two private builds: as shipped (TUI bundled), and with tsc's unbundled dist/tui
const bundled = privateBuild('bundled', true)
const unbundled = privateBuild('unbundled', false)

const bare = fileURLToPath(new URL('./bare-oclif/', import.meta.url))
execFileSync(process.execPath, [`${root}node_modules/oclif/bin/run.js`, 'manifest'], {cwd: bare, stdio: 'ignore'})

await seedQueues(`${bundled}dist/adapters/registry.js`, URL_, 100)

/** Spawns `command` in a pty; resolves with ms to the first frame, to Ink's first and to the first with data. */
function firstFrame(command) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    const child = spawn('script', ['-qfec', `stty rows 40 cols 120; exec ${command}`, '/dev/null'], {stdio: ['pipe', 'pipe', 'inherit'], env: {...process.env, NO_COLOR: '1'}})
    let out = ''
    let frame
    let ink
    let data
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d
      frame ??= out.includes('queue top') ? performance.now() - t0 : undefined
      ink ??= out.includes('\u001B[?2026h') ? performance.now() - t0 : undefined
      if (data === undefined && out.includes('TOTAL (100)')) {
        data = performance.now() - t0
        child.stdin.write('q')
      }
    })
    child.on('close', () => {
      clearTimeout(timer)
      if (data === undefined) reject(new Error(`no frame with data from: ${command}\n${out.slice(-2000)}`))
      else resolve({frame, ink, data})
    })
  })
}

function exitTime(args) {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, {stdio: 'ignore'})
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`)
  return performance.now() - t0
}

/** Milliseconds to import a module in a fresh process. */
function importTime(path) {
  const script = `const t=performance.now();await import(${JSON.stringify(path)});console.log(performance.now()-t)`
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], {encoding: 'utf8'}).trim())
}

const times = {}
const add = (k, v) => (times[k] ??= []).push(v)
for (let i = 0; i < runs; i++) {
  add('bare oclif command, start to exit', exitTime([`${bare}bin/run.js`, 'hello']))
  for (const [name, dir] of [['bundled', bundled], ['unbundled', unbundled]]) {
    const r = await firstFrame(`${process.execPath} ${dir}bin/run.js top --url ${URL_} --interval 1s`)
    add(`queue top (${name}), first frame`, r.frame)
    add(`queue top (${name}), first frame painted by Ink`, r.ink)
    add(`queue top (${name}), first frame with 100 queues`, r.data)
  }
  add('import dist/tui/app.js (bundled)', importTime(`${bundled}dist/tui/app.js`))
  add('import dist/tui/app.js (unbundled)', importTime(`${unbundled}dist/tui/app.js`))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const base = median(times['bare oclif command, start to exit'])
console.log(`runs: ${runs} each, interleaved; node ${process.version}; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`)
console.log('| measurement | median ms | vs bare oclif command |')
console.log('|---|---:|---:|')
for (const [name, xs] of Object.entries(times)) console.log(`| ${name} | ${median(xs).toFixed(0)} | ${(median(xs) / base).toFixed(2)}x |`)
