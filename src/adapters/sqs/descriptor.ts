// sqs:// described for the registry, without loading the AWS SDK.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const sqsTransport: TransportDescriptor = {
  name: 'sqs',
  schemes: ['sqs'],
  summary: 'AWS SQS, credentials from the standard AWS chain; an emulator with ?endpoint= or --endpoint',
  server: {name: 'SQS'},
  examples: ['sqs://?region=eu-west-1', 'sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566'],
  options: [{name: 'endpoint', summary: 'SQS endpoint for emulators, e.g. http://127.0.0.1:4566.'}],
  createOptions: [
    {name: 'fifo', summary: 'SQS: a FIFO queue (its name must end in .fifo).', kind: 'boolean'},
    {name: 'visibility-timeout', summary: 'SQS: how long a received message stays hidden, e.g. 30s (up to 12h).', kind: 'duration'},
    {name: 'retention', summary: 'SQS: how long messages are kept, e.g. 4d (1m to 14d).', kind: 'duration'},
    {name: 'dead-letter-queue', summary: 'RabbitMQ, SQS, pg-boss: the queue dead letters go to (made when missing).', kind: 'string'},
    {name: 'max-receives', summary: 'SQS: receives before a message is redriven to --dead-letter-queue (default 5).', kind: 'integer'},
  ],
  load: async () => (await import('./index.js')).createSqsBroker,
}
