// The body the runtime gives handlers: the payload decoded as JSON when it is JSON, on first read;
// an adapter's own body (BullMQ data, a Celery task's args) is kept.
import {describe, expect, it} from 'vitest'
import type {Message} from '../../src/broker/contract.js'
import {decodeJsonBody, withBody} from '../../src/runtime/body.js'

const message = (payload: string | Buffer, more: Partial<Message> = {}): Message => ({
  id: 'm1',
  queue: 'q',
  payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
  headers: {},
  attempts: 1,
  state: 'inflight',
  ...more,
})

describe('decodeJsonBody', () => {
  it('decodes every JSON value, with or without surrounding white space', () => {
    expect(decodeJsonBody(Buffer.from(' {"a":[1,2]}\n'))).toEqual({a: [1, 2]})
    expect(decodeJsonBody(Buffer.from('[true,null]'))).toEqual([true, null])
    expect(decodeJsonBody(Buffer.from('-4.5'))).toBe(-4.5)
    expect(decodeJsonBody(Buffer.from('"text"'))).toBe('text')
    expect(decodeJsonBody(Buffer.from('false'))).toBe(false)
  })

  it('is undefined for what is not JSON: text, bytes, an empty payload, a truncated document', () => {
    for (const p of ['hello', '', '{"a":', 'nope', 'true!']) expect(decodeJsonBody(Buffer.from(p))).toBeUndefined()
    expect(decodeJsonBody(Buffer.from([0xff, 0x00, 0x7b]))).toBeUndefined()
  })
})

describe('withBody', () => {
  it('gives a message without a body the decoded payload, whatever its content type', () => {
    expect(withBody(message('{"n":1}')).body).toEqual({n: 1})
    expect(withBody(message('{"n":1}', {contentType: 'text/plain'})).body).toEqual({n: 1})
    expect(withBody(message('plain')).body).toBeUndefined()
  })

  it('keeps a body the adapter set, and lets a handler replace it', () => {
    const celery = withBody(message('[[1],{}]', {body: {args: [1], kwargs: {}}}))
    expect(celery.body).toEqual({args: [1], kwargs: {}})
    const m = withBody(message('{"n":1}'))
    m.body = 'mine'
    expect(m.body).toBe('mine')
  })

  it('shows up where a message is spread or serialised', () => {
    const m = withBody(message('{"n":2}'))
    expect({...m}.body).toEqual({n: 2})
    expect(JSON.parse(JSON.stringify({...m, payload: undefined})).body).toEqual({n: 2})
  })
})

describe('withBody decoding', () => {
  it('decodes once: every read gives the same value, kept as a plain property', () => {
    const m = withBody(message('{"n":3}'))
    const first = m.body
    expect(m.body).toBe(first)
    expect(Object.getOwnPropertyDescriptor(m, 'body')).toEqual({value: {n: 3}, writable: true, enumerable: true, configurable: true})
  })
})
