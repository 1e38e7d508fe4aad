// `queue bench` on PostgreSQL: the job data keeps only JSON (capabilities.payload 'json'), so the
// bench's binary messages travel as base64 JSON strings, and every one is accounted for.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {freshDatabase, installGraphile, installPgboss, type TestDb} from './helpers.js'

describe('queue bench on PostgreSQL', () => {
  let db: TestDb
  const env = isolatedHome()

  beforeAll(async () => {
    db = await freshDatabase('bench')
    await installPgboss(db.url)
    await installGraphile(db.url)
  }, 60_000)

  afterAll(async () => {
    await db?.drop()
  })

  for (const kind of ['pgboss', 'graphile']) {
    it(`sends, consumes and accounts for every message on ${kind}`, async () => {
      const result = await runCli(['bench', '--url', db.url, '--queue', `${kind}:bench`, '-n', '200', '--json'], {env})
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({sent: 200, processed: 200, lost: 0, duplicates: 0, errors: 0})
    }, 60_000)
  }
})
