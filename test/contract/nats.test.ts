// The shared contract on NATS JetStream: a stream (work-queue, limits and interest retention) with
// one durable pull consumer whose ack_wait is the short lease of the expiry test.
import {RetentionPolicy} from '@nats-io/jetstream'
import {afterAll, beforeAll} from 'vitest'
import {natsCapabilities} from '../../src/adapters/nats/capabilities.js'
import {admin, dropStream, makeStream, openNats, uniqueStream} from '../adapters/nats/helpers.js'
import {describeBrokerContract} from './broker-contract.js'

const LEASE_MS = 2000
let conn: Awaited<ReturnType<typeof admin>>
beforeAll(async () => {
  conn = await admin()
})
afterAll(async () => {
  await conn?.nc.close()
})

// work queue: acked messages leave the stream; limits: they stay (only the consumer moves on);
// interest: they leave once every consumer acked (here: one)
for (const retention of [RetentionPolicy.Workqueue, RetentionPolicy.Limits, RetentionPolicy.Interest]) {
  describeBrokerContract(
    `nats (${retention} stream + durable pull consumer)`,
    {
      open: () => openNats(),
      freshQueue: async (_broker, hint) => makeStream(conn.jsm, uniqueStream(`${retention}_${hint}`), {ackWaitMs: LEASE_MS, retention}),
      dropQueue: (_broker, q) => dropStream(conn.jsm, q),
      shortLeaseMs: LEASE_MS,
      // max_payload is 1 MiB with headers and subject
      largePayloadBytes: 1000 * 1024,
    },
    natsCapabilities,
  )
}
