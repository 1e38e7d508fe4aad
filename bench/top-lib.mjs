// Shared by the `queue top` benchmarks: a private build (the shared dist/ is rebuilt by others at
// any time), Redis queues to watch, and traffic to keep their counts moving.
import {execFileSync, spawnSync} from 'node:child_process'
import {copyFileSync, mkdirSync, rmSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

export const root = fileURLToPath(new URL('..', import.meta.url))

/** A build of the repo in node_modules/.cache (so packages resolve), with the TUI bundled or not. */
export function privateBuild(name, bundle) {
  const dir = `${root}node_modules/.cache/queuectl-top-bench/${name}/`
  rmSync(dir, {recursive: true, force: true})
  mkdirSync(`${dir}bin`, {recursive: true})
  // tsc emits even when someone else's half-written file has a type error
  spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${root}tsconfig.build.json`, '--outDir', `${dir}dist`], {stdio: 'ignore'})
  for (const f of ['package.json', 'bin/run.js']) copyFileSync(`${root}${f}`, `${dir}${f}`)
  execFileSync(process.execPath, [`${root}node_modules/oclif/bin/run.js`, 'manifest'], {cwd: dir, stdio: 'ignore'})
  if (bundle) execFileSync(process.execPath, [`${root}scripts/bundle-tui.mjs`, `${dir}dist`], {stdio: 'ignore'})
  return dir
}

/** Fills a Redis database with N list queues of different depths (emptied first). */
export async function seedQueues(registry, url, count) {
  const {openBroker} = await import(registry)
  const broker = await openBroker(url, {timeoutMs: 5000})
  try {
    for (const q of await broker.listQueues()) await broker.deleteQueue?.(q.name)
    for (let i = 0; i < count; i++) {
      const n = 1 + ((i * 37) % 200)
      await broker.enqueue(`bench-${String(i).padStart(3, '0')}`, Array.from({length: n}, (_, j) => ({payload: JSON.stringify({i, j})})))
    }
    return (await broker.listQueues()).map((q) => q.name)
  } finally {
    await broker.close()
  }
}

/** Enqueues a message to a random queue every `everyMs` until the returned stop() is called. */
export async function churn(registry, url, names, everyMs = 10) {
  const {openBroker} = await import(registry)
  const broker = await openBroker(url, {timeoutMs: 5000})
  let n = 0
  const timer = setInterval(() => {
    void broker.enqueue(names[n++ % names.length], [{payload: '{"churn":true}'}]).catch(() => {})
  }, everyMs)
  return async () => {
    clearInterval(timer)
    await broker.close()
  }
}
