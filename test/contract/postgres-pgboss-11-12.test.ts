import {afterAll, describe, it} from 'vitest'
import {pgbossCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installPgboss, nodeMajor, openPostgres, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

const dbs: TestDb[] = []
let n = 0

// tables made by pg-boss 11 (schema versions 25–26) and 12 (27–46); CI runs this on Node 24
for (const major of [11, 12] as const) {
  if (nodeMajor >= 22) {
    let db: TestDb | undefined
    describeBrokerContract(`postgres pgboss ${major}`, {
      open: async () => {
        if (!db) {
          db = await freshDatabase(`contract_pgboss${major}`)
          dbs.push(db)
          await installPgboss(db.url, undefined, major)
        }
        return openPostgres(`${db.url}?flavor=pgboss`)
      },
      freshQueue: async (broker, hint) => {
        const q = `pgboss:${hint}-${n++}`
        await broker.createQueue!(q)
        return q
      },
      dropQueue: (broker, q) => broker.deleteQueue!(q),
      shortLeaseMs: 300,
      timeoutMs: 30_000,
    }, pgbossCapabilities)
  } else {
    describe(`broker contract: postgres pgboss ${major}`, () => {
      it.skipIf(nodeMajor < 22)(`runs on Node >= 22 [pg-boss ${major} needs Node >= 22]`, () => {})
    })
  }
}

afterAll(async () => {
  for (const db of dbs) await db.drop()
})
