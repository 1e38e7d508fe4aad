// `queue enqueue` / `queue import`'s send path in one process, without start-up: sendInBatches (the
// lines of an NDJSON file, batches of 500) and importMessages (`queue export` lines, batches of
// 100) on the broker as commands open it, wall time and process CPU around the send only.
// Builds side by side (ROOTS: this checkout and others, e.g. main's), interleaved round by round.
// Run: node bench/ops-inproc.mjs URL QUEUE_PREFIX COUNT ROUNDS [ROOT…]   (QUEUE_PREFIX e.g. list:wt-x, pgboss:wt-x)
import {createReadStream, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const [url, prefix, countText = '20000', roundsText = '3', ...others] = process.argv.slice(2)
const count = Number(countText)
const rounds = Number(roundsText)
const roots = [resolve(dirname(fileURLToPath(import.meta.url)), '..'), ...others.map((r) => resolve(r))]

const dir = mkdtempSync(join(tmpdir(), 'ops-inproc-'))
const exportsFile = join(dir, 'export.ndjson')
const payload = (i) => JSON.stringify({id: i, kind: 'wire', body: 'x'.repeat(80)})
writeFileSync(exportsFile, Array.from({length: count}, (_, i) => JSON.stringify({id: String(i), queue: 'wire', state: 'waiting', attempts: 0, headers: {}, payload: payload(i)})).join('\n') + '\n')

const load = async (root) => ({
  root,
  registry: await import(join(root, 'dist/adapters/registry.js')),
  enqueue: await import(join(root, 'dist/services/enqueue.js')),
  importer: await import(join(root, 'dist/services/ops/import.js')),
})
const builds = await Promise.all(roots.map(load))
const results = new Map(roots.map((r) => [r, {enqueue: [], import: []}]))
let serial = 0

async function once(build, op) {
  const broker = await build.registry.createBroker(url, {timeoutMs: 30_000})
  await broker.connect()
  const q = `${prefix}-${process.pid}-${serial++}`
  await broker.createQueue(q)
  try {
    const cpu = process.cpuUsage()
    const t = performance.now()
    if (op === 'enqueue') {
      const messages = Array.from({length: count}, (_, i) => ({payload: payload(i), contentType: 'application/json'}))
      await build.enqueue.sendInBatches(broker, q, messages, {batchSize: 500, total: count})
    } else {
      await build.importer.importMessages(broker, q, () => createReadStream(exportsFile), true, {batchSize: 100, allOrNothing: false, priority: false})
    }
    const ms = performance.now() - t
    const used = process.cpuUsage(cpu)
    return {ms, cpuK: (used.user + used.system) / 1000 / (count / 1000)}
  } finally {
    await broker.deleteQueue(q).catch(() => {})
    await broker.close()
  }
}

try {
  for (let round = 0; round < rounds; round++) {
    for (const op of ['enqueue', 'import']) {
      const order = builds.map((_, i) => builds[(i + round) % builds.length])
      for (const b of order) {
        const r = await once(b, op)
        results.get(b.root)[op].push(r)
        console.error(`round ${round + 1} ${op} ${b.root}: ${Math.round(r.ms)} ms, CPU ${r.cpuK.toFixed(1)} ms / 1k`)
      }
    }
  }
} finally {
  rmSync(dir, {recursive: true, force: true})
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
for (const op of ['enqueue', 'import']) {
  const first = results.get(roots[0])[op]
  for (const root of roots) {
    const rs = results.get(root)[op]
    const ratio = median(rs.map((r, i) => r.ms / first[i].ms))
    console.log(`${op} ${root}: median ${Math.round(median(rs.map((r) => r.ms)))} ms, CPU ${median(rs.map((r) => r.cpuK)).toFixed(1)} ms / 1k, wall ÷ this build's (per round) ${ratio.toFixed(2)}`)
  }
}
