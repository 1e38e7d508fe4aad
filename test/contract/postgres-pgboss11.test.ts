import {afterAll, describe, it} from 'vitest'
import {pgbossCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installPgboss, nodeMajor, openPostgres, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

let db: TestDb | undefined
let n = 0

// pg-boss 11 (schema versions 25–26) made the tables; CI runs this on Node 24
if (nodeMajor >= 22) {
  describeBrokerContract('postgres pgboss 11', {
    open: async () => {
      if (!db) {
        db = await freshDatabase('contract_pgboss11')
        await installPgboss(db.url, undefined, 11)
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
  describe('broker contract: postgres pgboss 11', () => {
    it.skipIf(nodeMajor < 22)('runs on Node >= 22 [pg-boss 11 needs Node >= 22]', () => {})
  })
}

afterAll(async () => {
  await db?.drop()
})
