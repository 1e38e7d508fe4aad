import {beeCapabilities} from '../../src/adapters/redis/flavors/bee.js'
import {openRedis, REDIS_HOST} from '../adapters/redis/targets.js'
import {BEE_DB} from '../adapters/redis-libs/node-dbs.js'
import {describeBrokerContract, type ContractTarget} from './broker-contract.js'

let n = 0
// no bee-queue workers share these queues, so the stall check may run as often as the short leases need
const url = `redis://${REDIS_HOST}/${BEE_DB}?flavor=bee&stallInterval=500`
const target: ContractTarget = {
  open: () => openRedis(url),
  freshQueue: async (broker, hint) => {
    const q = `bee:${hint}-${process.pid}-${Date.now().toString(36)}-${n++}`
    await broker.createQueue!(q)
    return q
  },
  dropQueue: (broker, q) => broker.deleteQueue!(q),
  shortLeaseMs: 300,
  timeoutMs: 30_000,
}

describeBrokerContract('redis bee', target, beeCapabilities)
