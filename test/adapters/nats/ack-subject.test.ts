// The delivery facts read from a JetStream ack subject, in place (pull.ts toDelivered), must be
// what splitting the subject on dots gives, for the v1 and v2 forms, and nothing for the rest.
import {describe, expect, it} from 'vitest'
import type {Msg} from '@nats-io/transport-node'
import {toDelivered} from '../../../src/adapters/nats/pull.js'

function bySplit(reply: string): {seq: number; deliveryCount: number; timestampMs: number} | undefined {
  const t = reply.split('.')
  const at = t.length === 9 ? 4 : t.length >= 11 ? 6 : -1
  if (at < 0) return undefined
  return {seq: Number(t[at + 1]), deliveryCount: Number(t[at]), timestampMs: Math.floor(Number(t[at + 3]) / 1e6)}
}

const read = (reply: string) => {
  const d = toDelivered({reply, subject: 's'} as unknown as Msg)
  return d && {seq: d.seq, deliveryCount: d.info.deliveryCount, timestampMs: d.info.timestampMs}
}

describe('nats ack subject', () => {
  it.each([
    '$JS.ACK.ORDERS.worker.3.1042.17.1765143000123456789.5',
    '$JS.ACK.hub.ACCHASH.ORDERS.worker.1.7.7.1765143000123456789.0.r4nd0m',
    '$JS.ACK.hub.ACCHASH.ORDERS.worker.2.8.9.1765143000123456789.0',
    '$JS.ACK.a.b.c.d.e.f.g.h.i.j.k.l.m.n',
    '$JS.ACK.S.C.1.2.3',
    '$JS.ACK.S.C.1.2.3.4.5.6',
    '$JS.ACK.S.C..2.3.4.5',
    '$JS.ACK.S.C.x.2.3.4.5',
  ])('%s reads as the split subject does', (reply) => {
    expect(read(reply)).toEqual(bySplit(reply))
  })

  it('a status or plain reply is not a delivery', () => {
    expect(toDelivered({reply: '_INBOX.abc', subject: 's'} as unknown as Msg)).toBeUndefined()
    expect(toDelivered({reply: '', subject: 's'} as unknown as Msg)).toBeUndefined()
    expect(toDelivered({subject: 's'} as unknown as Msg)).toBeUndefined()
  })
})
