import {afterAll} from 'vitest'
import {pgbossCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installPgboss, openPostgres, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

let db: TestDb | undefined
let n = 0

describeBrokerContract('postgres pgboss', {
  open: async () => {
    if (!db) {
      db = await freshDatabase('contract_pgboss')
      await installPgboss(db.url)
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

afterAll(async () => {
  await db?.drop()
})
