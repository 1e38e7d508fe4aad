// The nats:// transport as the descriptor of issue 14 will list it: schemes, examples, options and
// the lazy factory. Nothing here loads @nats-io/*: only load() does.
import type {BrokerFactory} from '../../broker/contract.js'

export const natsDescriptorInfo = {
  name: 'nats',
  // nats+tls rather than tls://, which would name no broker among the others
  schemes: ['nats', 'nats+tls'],
  examples: [
    'nats://127.0.0.1:4222',
    'nats://user:***@nats1:4222,nats2:4222',
    'nats://TOKEN@127.0.0.1:4222',
    'nats+tls://nats.example.com:4222?creds=/etc/nats/app.creds',
  ],
  /** URL query options, also the transport flags to come. */
  options: [
    {name: 'creds', help: 'NATS credentials file (JWT + nkey seed) to authenticate with', env: 'NATS_CREDS'},
    {name: 'nkey', help: 'file holding an nkey seed (SU…) to authenticate with', env: 'NATS_NKEY'},
    {name: 'consumer', help: 'durable pull consumer to use when a queue names only its stream'},
    {name: 'subject', help: 'subject to publish to (default: the stream\'s first subject)'},
  ],
  load: async (): Promise<BrokerFactory> => (await import('./index.js')).createNatsBroker,
}
