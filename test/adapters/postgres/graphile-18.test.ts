// graphile-worker 0.18 (migration 20; Node >= 22.18, CI's Node 24 run) beside queuectl: every CLI
// write path reaches its own worker with exactly the data given (./fidelity.ts), and its tables are
// read, counted and worked as 0.17's.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker, Lease} from '../../../src/broker/contract.js'
import {describeWriteFidelity, graphileLibrary} from './fidelity.js'
import {admin, freshDatabase, importGraphile, installGraphile, nodeHasGraphile18, openPostgres, quietLogger, type TestDb, until} from './helpers.js'

const needs = '[graphile-worker 0.18 needs Node >= 22.18]'

describeWriteFidelity('graphile-worker 0.18', graphileLibrary('graphile-worker-18'), nodeHasGraphile18, ` ${needs}`)

describe('graphile-worker 0.18 beside queuectl', () => {
  let db: TestDb
  let broker: Broker

  beforeAll(async () => {
    if (!nodeHasGraphile18) return
    db = await freshDatabase('graphile18')
    await installGraphile(db.url, undefined, 'graphile-worker-18')
    broker = await openPostgres(db.url)
  })

  afterAll(async () => {
    await broker?.close()
    await db?.drop()
  })

  it.skipIf(!nodeHasGraphile18)(`reads migration 20, and our consumer and its worker side by side never get the same job ${needs}`, async () => {
    const [{version}] = await admin<{version: number}>('SELECT max(id)::int AS version FROM graphile_worker.migrations', [], db.name)
    expect(version).toBe(20)
    const q = 'shared'
    const n = 200
    await broker.enqueue(`graphile:${q}`, Array.from({length: n}, (_, i) => ({payload: JSON.stringify({i})})))
    expect((await broker.stats(q)).counts.waiting).toBe(n)
    const ours: number[] = []
    const theirs: number[] = []
    const {run} = await importGraphile('graphile-worker-18')
    const runner = await run({connectionString: db.url, taskList: {[q]: async (payload) => void theirs.push((payload as {i: number}).i)}, concurrency: 4, pollInterval: 100, noHandleSignals: true, logger: await quietLogger('graphile-worker-18')})
    const sub = await broker.consume(q, (lease: Lease) => {
      ours.push((lease.message.body as {i: number}).i)
      void lease.ack()
    }, {prefetch: 10})
    try {
      await until(() => (ours.length + theirs.length >= n ? true : undefined), 30_000, 'all jobs')
    } finally {
      await sub.close()
      await runner.stop()
    }
    expect([...ours, ...theirs].sort((a, b) => a - b)).toEqual(Array.from({length: n}, (_, i) => i))
    expect(ours.length).toBeGreaterThan(0)
  }, 60_000)
})
