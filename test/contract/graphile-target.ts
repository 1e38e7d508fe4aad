// The contract suite on graphile-worker's tables, as one release's migrations made them (0.17 by default).
import {afterAll} from 'vitest'
import {graphileCapabilities} from '../../src/adapters/postgres/capabilities.js'
import {freshDatabase, installGraphile, openPostgres, type GraphilePackage, type TestDb} from '../adapters/postgres/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

export function describeGraphileContract(title: string, pkg?: GraphilePackage): void {
  let db: TestDb | undefined
  let n = 0
  describeBrokerContract(title, {
    open: async () => {
      if (!db) {
        db = await freshDatabase(`contract_${pkg ?? 'graphile'}`)
        await installGraphile(db.url, undefined, pkg)
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
}
