// The capabilities that apply to one queue: per queue where the adapter knows better (Redis holds
// list, stream and BullMQ queues side by side), else the broker's.
import type {Broker, Capabilities} from './contract.js'

export async function capabilitiesFor(broker: Broker, queue: string): Promise<Capabilities> {
  return broker.capabilitiesOf ? broker.capabilitiesOf(queue) : broker.capabilities
}
