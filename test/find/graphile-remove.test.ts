// `queue job delete` and `purge --where` on graphile-worker jobs its own WorkerUtils made (addJob,
// a runAt ahead, permanentlyFailJobs): the row goes through graphile's complete_jobs, only from the
// state asked, the neighbours stay.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {admin, freshDatabase, importGraphile, installGraphile, quietLogger, type TestDb} from '../adapters/postgres/helpers.js'

const env = isolatedHome()

describe('job delete and purge --where on graphile-worker', {timeout: 120_000}, () => {
  let db: TestDb
  const ids: Record<string, string> = {}
  const cli = (args: string[]) => runCli([...args, '--url', db.url], {env, timeoutMs: 60_000})
  const left = async () => (await admin<{id: string}>('SELECT id::text AS id FROM graphile_worker._private_jobs ORDER BY id', [], db.name)).map((r) => r.id)

  beforeAll(async () => {
    db = await freshDatabase('wtops2graphile')
    await installGraphile(db.url)
    const {makeWorkerUtils} = await importGraphile()
    const utils = await makeWorkerUtils({connectionString: db.url, logger: await quietLogger()})
    try {
      for (const key of ['w1', 'w2', 'f1', 'f2']) ids[key] = (await utils.addJob('mail', {key, tenant: key.endsWith('1') ? 1 : 2})).id
      ids.d1 = (await utils.addJob('mail', {key: 'd1', tenant: 1}, {runAt: new Date(Date.now() + 3_600_000)})).id
      await utils.permanentlyFailJobs([ids.f1!, ids.f2!], 'smtp down')
    } finally {
      await utils.release()
    }
  }, 60_000)

  afterAll(async () => {
    await db?.drop()
  })

  it('deletes exactly that waiting, delayed or dead job; the wrong state or a bad id deletes nothing', async () => {
    const wrong = await cli(['job', 'delete', 'graphile:mail', ids.w1!, '--state', 'dead', '--yes'])
    expect(wrong.code).toBe(4)
    for (const key of ['w1', 'd1', 'f1']) {
      const r = await cli(['job', 'delete', 'graphile:mail', ids[key]!, '--yes', '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(JSON.parse(r.stdout)).toMatchObject({deleted: 1})
    }
    expect(await left()).toEqual([ids.w2, ids.f2].sort((a, b) => Number(a) - Number(b)))
    const bad = await cli(['job', 'delete', 'graphile:mail', 'not-a-number', '--yes'])
    expect(bad.code).toBe(4)
  })

  it('purge --where deletes only the matching dead job', async () => {
    const r = await cli(['purge', 'graphile:mail', '--state', 'dead', '--where', 'body.tenant == 2', '--yes', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 1, removed: 1})
    expect(await left()).toEqual([ids.w2])
  })
  it('job promote runs a job waiting for its retry now (reschedule_jobs), its attempt still counted', async () => {
    const {makeWorkerUtils, runOnce} = await importGraphile()
    const utils = await makeWorkerUtils({connectionString: db.url, logger: await quietLogger()})
    let id: string
    try {
      id = (await utils.addJob('flaky', {n: 1}, {maxAttempts: 5})).id
    } finally {
      await utils.release()
    }
    await runOnce({connectionString: db.url, logger: await quietLogger(), taskList: {flaky: async () => { throw new Error('flaky once') }}})
    const [before] = await admin<{attempts: number; later: boolean}>('SELECT attempts, run_at > now() AS later FROM graphile_worker._private_jobs WHERE id = $1', [id], db.name)
    expect(before).toEqual({attempts: 1, later: true})
    const r = await cli(['job', 'promote', 'graphile:flaky', id, '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({state: 'retry', promoted: 1})
    const [after] = await admin<{attempts: number; later: boolean}>('SELECT attempts, run_at > now() AS later FROM graphile_worker._private_jobs WHERE id = $1', [id], db.name)
    expect(after).toEqual({attempts: 1, later: false})
  })
})
