// The shared contract on NATS JetStream: a work-queue stream with one durable pull consumer whose
// ack_wait is the short lease of the expiry test.
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

describeBrokerContract(
  'nats (work-queue stream + durable pull consumer)',
  {
    open: () => openNats(),
    freshQueue: async (_broker, hint) => makeStream(conn.jsm, uniqueStream(hint), {ackWaitMs: LEASE_MS}),
    dropQueue: (_broker, q) => dropStream(conn.jsm, q),
    shortLeaseMs: LEASE_MS,
    // max_payload is 1 MiB with headers and subject
    largePayloadBytes: 1000 * 1024,
  },
  natsCapabilities,
)
