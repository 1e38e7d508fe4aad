import {afterAll} from 'vitest'
import {graphileCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installGraphile, openPostgres, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

let db: TestDb | undefined
let n = 0

describeBrokerContract('postgres graphile', {
  open: async () => {
    if (!db) {
      db = await freshDatabase('contract_graphile')
      await installGraphile(db.url)
    }
    return openPostgres(`${db.url}?flavor=graphile`)
  },
  freshQueue: async (broker, hint) => {
    const q = `graphile:${hint}-${n++}`
    await broker.createQueue!(q)
    return q
  },
  dropQueue: (broker, q) => broker.deleteQueue!(q),
  shortLeaseMs: 300,
  timeoutMs: 30_000,
}, graphileCapabilities)

afterAll(async () => {
  await db?.drop()
})
