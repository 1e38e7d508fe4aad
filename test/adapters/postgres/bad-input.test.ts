// What the user sees when the URL, the credentials, the database or the role is wrong: one line,
// the right exit code, never the password.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {openBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'
import {refusingServer} from './fake-server.js'
import {PG_HOST, admin, freshDatabase, installGraphile, installPgboss, openPostgres, type TestDb} from './helpers.js'

const open = (url: string) => openBroker(url, {timeoutMs: 3000})

describe('postgres:// bad input', () => {
  const role = `qc_ro_${process.pid}`
  let db: TestDb
  let empty: TestDb

  beforeAll(async () => {
    db = await freshDatabase('bad_input')
    empty = await freshDatabase('empty')
    await installPgboss(db.url)
    await installGraphile(db.url) // the read-only role below may read pg-boss's schema only
    const broker = await openPostgres(db.url)
    await broker.enqueue('pgboss:emails', [{payload: '{"a":1}'}, {payload: '{"a":2}'}])
    await broker.close()
    await admin(`DROP ROLE IF EXISTS ${role}`)
    await admin(`CREATE ROLE ${role} LOGIN`)
    await admin(`GRANT USAGE ON SCHEMA pgboss TO ${role}; GRANT SELECT ON ALL TABLES IN SCHEMA pgboss TO ${role}`, [], db.name)
  })

  afterAll(async () => {
    await db?.drop()
    await empty?.drop()
    await admin(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
  })

  it('a wrong password is exit 3, and the password is never shown', async () => {
    const server = await refusingServer()
    try {
      const error = await open(`postgres://qc_user:s3cret-pass@127.0.0.1:${server.port}/db`).catch((e: Error) => e)
      expect(error).toMatchObject({exitCode: 3})
      expect((error as Error).message).toMatch(/cannot log in .* as "qc_user": password authentication failed/)
      expect((error as Error).message).not.toContain('s3cret-pass')
    } finally {
      await server.close()
    }
  })

  it('a role that may not log in is exit 3', async () => {
    const nologin = `qc_nologin_${process.pid}`
    await admin(`DROP ROLE IF EXISTS ${nologin}; CREATE ROLE ${nologin} NOLOGIN`)
    try {
      await expect(open(`postgres://${nologin}:pw@${PG_HOST}/${db.name}`)).rejects.toMatchObject({exitCode: 3, message: expect.stringContaining('not permitted to log in')})
    } finally {
      await admin(`DROP ROLE IF EXISTS ${nologin}`)
    }
  })

  it('a refused connection is exit 3 and transient', async () => {
    await expect(open('postgres://postgres:pw@127.0.0.1:1/test')).rejects.toMatchObject({exitCode: 3, transient: true})
  })

  it('a missing database is exit 4 and named', async () => {
    await expect(open(`postgres://postgres@${PG_HOST}/qc_no_such_db`)).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining('database "qc_no_such_db" does not exist')})
  })

  it('a database without job tables is exit 4, naming the schemas there', async () => {
    await admin('CREATE SCHEMA billing', [], empty.name)
    await expect(open(empty.url)).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringMatching(/no pg-boss or graphile-worker tables found in database "qc_empty_\w+".*; schemas seen: billing, public/),
    })
  })

  it('a pg-boss schema version it does not know is refused clearly', async () => {
    const odd = await freshDatabase('odd_version')
    try {
      await installPgboss(odd.url)
      await admin('UPDATE pgboss.version SET version = 99', [], odd.name)
      await expect(open(odd.url)).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/pg-boss schema version 99 .* reads versions 21–46 \(pg-boss 10\.x–12\.38\); a pg-boss newer than 12\.38 changed its tables/)})
    } finally {
      await odd.drop()
    }
  })

  describe('a read-only role', () => {
    let broker: Broker
    beforeAll(async () => {
      broker = await open(`postgres://${role}@${PG_HOST}/${db.name}`)
    })
    afterAll(async () => {
      await broker?.close()
    })

    it('inspects the library it may read; the other is refused naming the grant', async () => {
      await expect(broker.stats('graphile:emails')).rejects.toMatchObject({exitCode: 3, message: expect.stringMatching(/permission denied for schema graphile_worker.*GRANT USAGE ON SCHEMA graphile_worker/)})
    })

    it('inspects', async () => {
      expect(await broker.listQueues()).toEqual([{name: 'pgboss:emails', kind: 'pgboss'}])
      expect((await broker.stats('emails')).counts.waiting).toBe(2)
      expect(await broker.peek('emails', {limit: 5})).toHaveLength(2)
    })

    it('is refused destructive commands with exit 3 naming the permission', async () => {
      await expect(broker.purge('emails')).rejects.toMatchObject({exitCode: 3, message: expect.stringMatching(/permission denied for table job.*role "qc_ro_\d+"/)})
      await expect(broker.enqueue('emails', [{payload: '"x"'}])).rejects.toMatchObject({exitCode: 3, message: expect.stringContaining('permission denied')})
      await expect(broker.retry!('emails', {})).rejects.toMatchObject({exitCode: 3})
    })
  })
})
