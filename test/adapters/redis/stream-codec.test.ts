// decodeEntry's short path for queuectl's plain entry (the one field `payload`) gives the very
// message the general path gives: same fields, same raw form, payload the bytes Redis sent.
import {describe, expect, it} from 'vitest'
import {decodeEntry} from '../../../src/adapters/redis/flavors/stream-codec.js'

describe('stream entry decoding', () => {
  it('a plain entry: payload, headers {}, enqueuedAt from the id, raw with the payload length', () => {
    const bytes = Buffer.from([0, 1, 2, 0xff])
    const m = decodeEntry('q', [Buffer.from('1700000000123-7'), [Buffer.from('payload'), bytes]], 'inflight', 1)
    expect(m).toStrictEqual({id: '1700000000123-7', queue: 'q', payload: bytes, headers: {}, attempts: 1, state: 'inflight', enqueuedAt: 1700000000123, raw: {payload: '<4 bytes>'}})
    expect(m.payload).toBe(bytes)
  })

  it('an entry with more fields, or another single field, takes the general path', () => {
    const named = decodeEntry('q', ['5-0', [Buffer.from('payload'), Buffer.from('x'), Buffer.from('name'), Buffer.from('job')]], 'waiting', 0)
    expect(named).toMatchObject({name: 'job', raw: {payload: '<1 bytes>', name: 'job'}, enqueuedAt: 5})
    const other = decodeEntry('q', ['5-0', [Buffer.from('payloaD'), Buffer.from('x')]], 'waiting', 0)
    expect(other.body).toStrictEqual({payloaD: 'x'})
  })
})
