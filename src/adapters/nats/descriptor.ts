// nats:// and nats+tls:// described for the registry, without loading @nats-io/*.
import {seedsInQuery, type TransportDescriptor} from '../../broker/descriptor.js'

export const natsTransport: TransportDescriptor = {
  name: 'nats',
  // nats+tls rather than tls://, which would name no broker among the others
  schemes: ['nats', 'nats+tls'],
  summary: 'NATS JetStream: a queue is a stream and its durable pull consumer (STREAM or STREAM/CONSUMER)',
  server: {name: 'NATS', port: 4222},
  examples: ['nats://127.0.0.1:4222', 'nats://user:***@nats1:4222,nats2:4222', 'nats+tls://nats.example.com:4222'],
  queueSyntax: 'STREAM or STREAM/CONSUMER',
  options: [
    {name: 'creds', summary: 'NATS credentials file (JWT and nkey seed) to authenticate with.', env: 'NATS_CREDS'},
    {name: 'nkey', summary: 'NATS nkey seed file (SU…) to authenticate with.', env: 'NATS_NKEY'},
  ],
  headers: {
    // what a dead letter carries (names.ts HEADER): dropped when it goes back to work
    deadLetter: ['Queuectl-Dead-Reason', 'Queuectl-Original-Subject', 'Queuectl-Original-Seq', 'Queuectl-Deliveries', 'Queuectl-Dead-At'],
  },
  tokenUser: true,
  prepareUrl: (text) => seedsInQuery(text, ['nats', 'nats+tls']),
  createOptions: [
    {name: 'retention', summary: 'NATS: the stream\'s retention, limits, workqueue (default) or interest.', kind: 'choice', values: ['limits', 'workqueue', 'interest']},
    {name: 'subjects', summary: 'NATS: the subjects the stream captures, comma-separated (default: its name).', kind: 'string'},
    {name: 'max-deliver', summary: 'NATS: deliveries before the consumer gives up on a message.', kind: 'integer'},
    {name: 'ack-wait', summary: 'NATS: how long the consumer waits for an ack before redelivering, e.g. 30s.', kind: 'duration'},
  ],
  load: async () => (await import('./index.js')).createNatsBroker,
}
