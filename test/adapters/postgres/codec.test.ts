// Payload ↔ job data: the data is exactly the JSON the user gave; what the libraries have no place
// for (headers, another name, a non-JSON content type) and what is not JSON is refused.
import {describe, expect, it} from 'vitest'
import {decodeData, encodeDataJson} from '../../../src/adapters/postgres/codec.js'
import {orderedUuid} from '../../../src/adapters/postgres/pgboss-job.js'

const boss = {library: 'pg-boss', queue: 'pgboss:emails', nameIs: 'the queue name'}

describe('postgres job data codec', () => {
  it('stores any JSON value as its own text: object, array, string, number, null', () => {
    for (const text of ['{"to":"ada","n":1}', '[1,"two",{"three":[3]}]', '"just text"', '42', 'null', '{ "spaced": true }\n']) {
      expect(encodeDataJson({payload: text}, boss)).toBe(text)
      expect(encodeDataJson({payload: Buffer.from(text)}, boss)).toBe(text)
    }
  })

  it('the default content type is implied: JSON types are accepted and not stored', () => {
    for (const contentType of ['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json']) {
      expect(encodeDataJson({payload: '[1]', contentType}, boss)).toBe('[1]')
    }
  })

  it('a non-JSON payload is refused for what it is, not for the content type guessed for it', () => {
    expect(() => encodeDataJson({payload: 'plain', contentType: 'application/octet-stream'}, boss)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining('not JSON')}))
  })

  it('a name equal to the queue is the queue; headers, another name, another content type are refused (exit 4)', () => {
    expect(encodeDataJson({payload: '{}', name: 'emails'}, boss)).toBe('{}')
    expect(() => encodeDataJson({payload: '{}', headers: {trace: 't1'}}, boss)).toThrow(expect.objectContaining({exitCode: 4, message: expect.stringContaining('header "trace"')}))
    expect(() => encodeDataJson({payload: '{}', name: 'welcome'}, boss)).toThrow(expect.objectContaining({exitCode: 4, message: expect.stringContaining('name "welcome"')}))
    expect(() => encodeDataJson({payload: '{}', contentType: 'text/plain'}, boss)).toThrow(expect.objectContaining({exitCode: 4, message: expect.stringContaining('"text/plain"')}))
    expect(encodeDataJson({payload: '{}', headers: {}}, boss)).toBe('{}')
  })

  it('a payload that is not JSON, binary, or JSON with NUL is refused (exit 2) with the fix', () => {
    expect(() => encodeDataJson({payload: 'plain text'}, boss)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining(`is not JSON: "plain text" — send a JSON value, e.g. the text as a JSON string: '"plain text"'`)}))
    expect(() => encodeDataJson({payload: ''}, boss)).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => encodeDataJson({payload: Buffer.from([0, 1, 255])}, boss)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining('binary')}))
    expect(() => encodeDataJson({payload: '{"nul":"a\\u0000b"}'}, boss)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining('NUL')}))
    // an escaped backslash before u0000 is text, not NUL
    expect(encodeDataJson({payload: '"a\\\\u0000b"'}, boss)).toBe('"a\\\\u0000b"')
  })

  it('the data read back is the payload, with no envelope of ours', () => {
    expect(decodeData({to: 'ada', _queuectl: 1})).toEqual({payload: Buffer.from('{"to":"ada","_queuectl":1}'), body: {to: 'ada', _queuectl: 1}, headers: {}, contentType: 'application/json'})
    expect(decodeData([1, 'two']).payload.toString()).toBe('[1,"two"]')
    expect(decodeData('s').payload.toString()).toBe('"s"')
  })
})

describe('pg-boss job ids (orderedUuid)', () => {
  it('are UUIDv7s, unique and increasing within the process, across many random-pool refills', () => {
    const ids = Array.from({length: 2000}, () => orderedUuid(1_700_000_000_000))
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(new Set(ids).size).toBe(ids.length)
    expect([...ids].sort()).toEqual(ids)
    // the random tails differ (not one pool slice handed out twice)
    expect(new Set(ids.map((id) => id.slice(-12))).size).toBe(ids.length)
  })
})
