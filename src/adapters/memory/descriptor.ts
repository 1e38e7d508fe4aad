// memory:// described for the registry: no SDK, no options of its own.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const memoryTransport: TransportDescriptor = {
  name: 'memory',
  schemes: ['memory'],
  summary: 'the embedded broker, in this process (?maxAttempts=N&leaseMs=N)',
  examples: ['memory://', 'memory://NAME?maxAttempts=5'],
  load: async () => (await import('./index.js')).createMemoryBroker,
}
