// Payload bytes ↔ job data: the library's worker sees plain JSON as itself; everything else comes
// back byte for byte.
import {describe, expect, it} from 'vitest'
import {decodeData, encodeData, encodeDataJson} from '../../../src/adapters/postgres/codec.js'

const jsonb = {jsonb: true, nameColumn: false}
const roundTrip = (data: unknown) => JSON.parse(JSON.stringify(data)) as unknown

describe('postgres job data codec', () => {
  it('stores canonical JSON as the value itself', () => {
    expect(encodeData({payload: '{"to":"ada","n":1}'}, jsonb)).toEqual({to: 'ada', n: 1})
    expect(encodeData({payload: '[1,2]'}, jsonb)).toEqual([1, 2])
    expect(decodeData({to: 'ada'})).toMatchObject({payload: Buffer.from('{"to":"ada"}'), body: {to: 'ada'}, headers: {}})
  })

  it('keeps headers, name and content type beside an object, where its worker ignores them', () => {
    const data = encodeData({payload: '{"a":1}', headers: {trace: 't1'}, name: 'welcome', contentType: 'application/json'}, jsonb)
    expect(data).toMatchObject({a: 1, _queuectl: {headers: {trace: 't1'}, name: 'welcome', ct: 'application/json'}})
    const back = decodeData(roundTrip(data))
    expect(back).toMatchObject({payload: Buffer.from('{"a":1}'), headers: {trace: 't1'}, name: 'welcome', body: {a: 1}})
  })

  it('a task identifier column keeps the name out of the data', () => {
    expect(encodeData({payload: '{"a":1}', name: 'x'}, {jsonb: false, nameColumn: true})).toEqual({a: 1})
  })

  it('jsonb (pg-boss) keeps any JSON as its value; json (graphile) keeps non-canonical JSON byte for byte', () => {
    expect(encodeData({payload: '{ "spaced": true }'}, jsonb)).toEqual({spaced: true})
    const spaced = Buffer.from('{ "spaced": true }')
    const back = decodeData(roundTrip(encodeData({payload: spaced}, {jsonb: false, nameColumn: true})))
    expect(back.payload.equals(spaced)).toBe(true)
  })

  it('text, NUL and binary come back byte for byte', () => {
    const cases = [
      Buffer.from('plain text'),
      Buffer.from('{"nul":"a\\u0000b"}'),
      Buffer.from('with \u0000 inside'),
      Buffer.from([0, 1, 2, 253, 254, 255]),
    ]
    for (const payload of cases) {
      const back = decodeData(roundTrip(encodeData({payload}, jsonb)))
      expect(back.payload.equals(payload)).toBe(true)
    }
  })

  it('plain JSON goes into a batch as its own text', () => {
    expect(encodeDataJson({payload: '{"b":1,"a":2}'}, jsonb)).toBe('{"b":1,"a":2}')
    expect(JSON.parse(encodeDataJson({payload: Buffer.from([255])}, jsonb))).toEqual({_queuectl: {enc: 'base64'}, payload: '/w=='})
  })

  it('an object that already has our key is wrapped, not merged', () => {
    const data = encodeData({payload: '{"_queuectl":1}', headers: {h: 'v'}}, jsonb)
    expect(decodeData(roundTrip(data)).payload.toString()).toBe('{"_queuectl":1}')
  })
})
