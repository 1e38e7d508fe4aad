// sqs:// described for the registry, without loading the AWS SDK.
import type {TransportDescriptor} from '../../broker/descriptor.js'

export const sqsTransport: TransportDescriptor = {
  name: 'sqs',
  schemes: ['sqs'],
  summary: 'AWS SQS, credentials from the standard AWS chain; an emulator with ?endpoint= or --endpoint',
  server: {name: 'SQS'},
  examples: ['sqs://?region=eu-west-1', 'sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566'],
  options: [{name: 'endpoint', summary: 'SQS endpoint for emulators, e.g. http://127.0.0.1:4566.'}],
  load: async () => (await import('./index.js')).createSqsBroker,
}
