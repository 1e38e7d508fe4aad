// find, purge --where and job show/delete on jobs the real pg-boss made (send, fetch, fail,
// complete): exactly the matches are found and deleted, the others stay, pg-boss's output shows.
import type PgBoss from 'pg-boss'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {freshDatabase, type TestDb} from '../adapters/postgres/helpers.js'

const env = isolatedHome()

describe('find and act on pg-boss jobs', {timeout: 120_000}, () => {
  let db: TestDb
  let boss: PgBoss
  const ids: Record<string, string> = {}
  const cli = (args: string[]) => runCli([...args, '--url', db.url], {env, timeoutMs: 60_000})
  beforeAll(async () => {
    db = await freshDatabase('wtfind')
    const {default: Boss} = await import('pg-boss')
    boss = new Boss({connectionString: db.url, supervise: false, schedule: false})
    boss.on('error', () => {})
    await boss.start()
    await boss.createQueue('mail')
    for (const tenant of [42, 7]) {
      ids[`f${tenant}`] = (await boss.send('mail', {tenant}, {retryLimit: 0}))!
      const [job] = await boss.fetch('mail')
      await boss.fail('mail', job!.id, new Error(`smtp timeout ${tenant}`))
    }
    ids.w42 = (await boss.send('mail', {tenant: 42}))!
    ids.w7 = (await boss.send('mail', {tenant: 7}))!
  }, 60_000)
  afterAll(async () => {
    await boss?.stop({graceful: false, wait: true}).catch(() => {})
    await db?.drop()
  })

  it('find returns exactly the matches across states; job show has pg-boss output', async () => {
    const r = await cli(['find', 'pgboss:mail', '--where', 'body.tenant == 42', '--json'])
    expect(r.code).toBe(0)
    const found = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {id: string; state: string})
    expect(found.map((j) => [j.id, j.state]).sort()).toEqual([[ids.f42, 'dead'], [ids.w42, 'waiting']].sort())
    const shown = await cli(['job', 'show', 'pgboss:mail', ids.f7!, '--json'])
    expect(shown.code).toBe(0)
    expect(JSON.stringify(JSON.parse(shown.stdout).raw)).toContain('smtp timeout 7')
  })

  it('pushes body equalities down to SQL: with --scan 1 the one row read is the match', async () => {
    // waiting jobs are read oldest first: tenant 42's comes first, so only a pushed-down filter reaches tenant 7's
    const r = await cli(['find', 'pgboss:mail', '--state', 'waiting', '--where', 'body.tenant == 7 && attempts == 0', '--scan', '1', '--json'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {id: string}).id)).toEqual([ids.w7])
    const unpushed = await cli(['find', 'pgboss:mail', '--state', 'waiting', '--where', 'body.tenant + 0 == 7', '--scan', '1', '--json'])
    expect(unpushed.stdout).toBe('')
  })

  it('purge --where deletes exactly the matching dead job; job delete one waiting job', async () => {
    const dry = await cli(['purge', 'pgboss:mail', '--state', 'dead', '--where', 'lastError.contains("timeout 42")', '--dry-run'])
    expect(dry.stdout).toMatch(/would remove 1 dead job/)
    expect(await boss.getJobById('mail', ids.f42!)).toBeTruthy()
    const r = await cli(['purge', 'pgboss:mail', '--state', 'dead', '--where', 'lastError.contains("timeout 42")', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 1, removed: 1})
    expect(await boss.getJobById('mail', ids.f42!)).toBeNull()
    expect(await boss.getJobById('mail', ids.f7!)).toBeTruthy()
    const del = await cli(['job', 'delete', 'pgboss:mail', ids.w7!, '--yes'])
    expect(del.code).toBe(0)
    expect(await boss.getJobById('mail', ids.w7!)).toBeNull()
    expect(await boss.getJobById('mail', ids.w42!)).toBeTruthy()
  })
  it('job promote runs a delayed job now (start_after = now), which pg-boss then fetches; its neighbour stays delayed', async () => {
    await boss.createQueue('later')
    const soon = (await boss.send('later', {n: 1}, {startAfter: 3600}))!
    const other = (await boss.send('later', {n: 2}, {startAfter: 3600}))!
    expect(await boss.fetch('later')).toHaveLength(0)
    const r = await cli(['job', 'promote', 'pgboss:later', soon, '--json'])
    expect(r.code, `${soon}: ${r.stderr}`).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({state: 'delayed', promoted: 1})
    const [fetched] = await boss.fetch('later')
    expect(fetched?.id).toBe(soon)
    expect(new Date((await boss.getJobById('later', other))!.startAfter).getTime()).toBeGreaterThan(Date.now() + 3_000_000)
    const again = await cli(['job', 'promote', 'pgboss:later', soon])
    expect(again.code).toBe(4)
  })
})
