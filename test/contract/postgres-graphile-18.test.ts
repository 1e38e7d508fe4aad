import {afterAll, describe, it} from 'vitest'
import {graphileCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installGraphile, nodeHasGraphile18, openPostgres, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

let db: TestDb | undefined
let n = 0

// tables made by graphile-worker 0.18 (migration 20); it needs Node >= 22.18, so CI runs this on Node 24
if (nodeHasGraphile18) {
  describeBrokerContract('postgres graphile 0.18', {
    open: async () => {
      if (!db) {
        db = await freshDatabase('contract_graphile18')
        await installGraphile(db.url, undefined, 'graphile-worker-18')
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
} else {
  describe('broker contract: postgres graphile 0.18', () => {
    it.skipIf(!nodeHasGraphile18)('runs on Node >= 22.18 [graphile-worker 0.18 needs Node >= 22.18]', () => {})
  })
}

afterAll(async () => {
  await db?.drop()
})
