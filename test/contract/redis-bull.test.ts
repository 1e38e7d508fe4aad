import {bullCapabilities} from '../../src/adapters/redis/flavors/bull.js'
import {openRedis, REDIS_HOST} from '../adapters/redis/targets.js'
import {BULL_DB} from '../adapters/redis-libs/node-dbs.js'
import {describeBrokerContract, type ContractTarget} from './broker-contract.js'

let n = 0
const url = `redis://${REDIS_HOST}/${BULL_DB}?flavor=bull`
const target: ContractTarget = {
  open: () => openRedis(url),
  freshQueue: async (broker, hint) => {
    const q = `bull:${hint}-${process.pid}-${Date.now().toString(36)}-${n++}`
    await broker.createQueue!(q)
    return q
  },
  dropQueue: (broker, q) => broker.deleteQueue!(q),
  shortLeaseMs: 300,
  timeoutMs: 30_000,
}

describeBrokerContract('redis bull', target, bullCapabilities)
