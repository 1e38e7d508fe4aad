import {createBroker} from '../../src/adapters/registry.js'
import {memoryCapabilities} from '../../src/adapters/memory/index.js'
import {describeBrokerContract} from './broker-contract.js'

let n = 0
describeBrokerContract(
  'memory',
  {
    open: async () => {
      const broker = await createBroker('memory://contract', {timeoutMs: 1000})
      await broker.connect()
      return broker
    },
    freshQueue: async (broker, hint) => {
      const q = `${hint}-${process.pid}-${n++}`
      await broker.createQueue(q)
      return q
    },
    dropQueue: (broker, q) => broker.deleteQueue(q),
    shortLeaseMs: 200,
  },
  memoryCapabilities,
)
