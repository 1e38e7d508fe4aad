// The flavor table loads a flavor's module only when that flavor is used: detection (probe,
// locate, discover) runs from ./detect.ts alone, and `queue enqueue` to a bare list name loads
// the list flavor and no other.
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Redis} from 'ioredis'
import {afterAll, describe, expect, it} from 'vitest'
import type {Flavor} from '../../../src/adapters/redis/flavor.js'
import {FLAVORS, lazyFlavor} from '../../../src/adapters/redis/flavors/index.js'
import {listFinder} from '../../../src/adapters/redis/flavors/detect.js'
import {asynqFlavor} from '../../../src/adapters/redis/flavors/asynq.js'
import {beeFlavor} from '../../../src/adapters/redis/flavors/bee.js'
import {bullFlavor} from '../../../src/adapters/redis/flavors/bull.js'
import {bullmqFlavor} from '../../../src/adapters/redis/flavors/bullmq.js'
import {celeryFlavor} from '../../../src/adapters/redis/flavors/celery.js'
import {listFlavor} from '../../../src/adapters/redis/flavors/list.js'
import {rqFlavor} from '../../../src/adapters/redis/flavors/rq.js'
import {sidekiqFlavor} from '../../../src/adapters/redis/flavors/sidekiq.js'
import {streamFlavor} from '../../../src/adapters/redis/flavors/stream.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {DB, REDIS_HOST} from './targets.js'

const MODULES: Record<string, Flavor> = {asynq: asynqFlavor, bee: beeFlavor, bull: bullFlavor, bullmq: bullmqFlavor, celery: celeryFlavor, list: listFlavor, rq: rqFlavor, sidekiq: sidekiqFlavor, stream: streamFlavor}
const functionsOf = (f: object) => Object.keys(f).filter((k) => typeof (f as Record<string, unknown>)[k] === 'function' && k !== 'close').sort()

describe('the lazy Redis flavor table', () => {
  it.each(FLAVORS.map((f) => [f.kind, f] as const))('%s: the table entry is the flavor module\'s detection, with the same operations', (kind, entry) => {
    const real = MODULES[kind]!
    expect(real.kind).toBe(kind)
    for (const key of ['description', 'capabilities', 'scans', 'probe', 'discover', 'locate'] as const) expect(entry[key], `${kind}.${key}`).toBe(real[key])
    expect(functionsOf(entry)).toEqual(functionsOf(real))
    expect(Object.keys(MODULES).sort()).toEqual(FLAVORS.map((f) => f.kind).sort())
  })

  it('loads the module on the first operation only, once, and closes nothing it never loaded', async () => {
    let loads = 0
    const calls: string[] = []
    const real = {...listFinder, stats: async (_ctx: unknown, name: string) => (calls.push(`stats ${name}`), {name}), close: async () => calls.push('close')} as unknown as Flavor
    const flavor = lazyFlavor(listFinder, async () => (loads++, real))
    expect(flavor.probe).toBe(listFinder.probe)
    await flavor.close?.({} as never)
    expect(loads).toBe(0)
    await flavor.stats({} as never, 'a')
    await flavor.stats({} as never, 'b')
    await flavor.close?.({} as never)
    expect({loads, calls}).toEqual({loads: 1, calls: ['stats a', 'stats b', 'close']})
  })
})

describe('queue enqueue to a bare Redis name', () => {
  const queue = `lazy-${process.pid}-${Date.now().toString(36)}`
  const [host, port] = REDIS_HOST.split(':') as [string, string]
  afterAll(async () => {
    const raw = new Redis({host, port: Number(port), db: DB.list})
    await raw.del(queue)
    await raw.srem('queuectl:lists', queue)
    raw.disconnect()
  })

  it('probes every flavor but loads only the list flavor\'s module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queuectl-lazy-'))
    const log = join(dir, 'loaded.txt')
    writeFileSync(join(dir, 'hooks.mjs'), `import {appendFileSync} from 'node:fs'\nexport async function load(url, context, next) {\n  appendFileSync(${JSON.stringify(log)}, url + '\\n')\n  return next(url, context)\n}\n`)
    writeFileSync(join(dir, 'register.mjs'), `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)})\n`)
    const r = await runCli(['enqueue', queue, '{"a":1}', '--url', `redis://${REDIS_HOST}/${DB.list}`], {env: {...isolatedHome(), NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}`}})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const flavors = readFileSync(log, 'utf8').split('\n').filter((u) => u.includes('/dist/adapters/redis/flavors/')).map((u) => u.replace(/.*\/flavors\//, ''))
    expect(flavors.filter((f) => !['index.js', 'detect.js', 'shared.js'].includes(f))).toEqual(['list.js', 'list-codec.js'])
  })
})
