// graphile-worker 0.18 (migration 20; Node >= 22.18, CI's Node 24 run) beside queuectl: every CLI
// write path reaches its own worker with exactly the data given (./fidelity.ts), and its tables are
// read, counted and worked as 0.17's (./graphile-interop.ts).
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {describeWriteFidelity, graphileLibrary} from './fidelity.js'
import {describeGraphileInterop} from './graphile-interop.js'
import {admin, freshDatabase, installGraphile, nodeHasGraphile18, openPostgres, type TestDb} from './helpers.js'

const needs = '[graphile-worker 0.18 needs Node >= 22.18]'

describeWriteFidelity('graphile-worker 0.18', graphileLibrary('graphile-worker-18'), nodeHasGraphile18, ` ${needs}`)

describeGraphileInterop('0.18', 'graphile-worker-18', nodeHasGraphile18, ` ${needs}`)

describe('graphile-worker 0.18 tables', () => {
  let db: TestDb

  beforeAll(async () => {
    if (!nodeHasGraphile18) return
    db = await freshDatabase('graphile18')
    await installGraphile(db.url, undefined, 'graphile-worker-18')
  })

  afterAll(async () => {
    await db?.drop()
  })

  it.skipIf(!nodeHasGraphile18)(`are at migration 20, which queuectl reads ${needs}`, async () => {
    const [{version}] = await admin<{version: number}>('SELECT max(id)::int AS version FROM graphile_worker.migrations', [], db.name)
    expect(version).toBe(20)
    const broker = await openPostgres(db.url)
    try {
      await broker.enqueue('graphile:t', [{payload: '[1,"two"]'}])
      expect((await broker.stats('graphile:t')).counts.waiting).toBe(1)
    } finally {
      await broker.close()
    }
  })
})
