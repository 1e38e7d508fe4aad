// parseExportLine hands a text payload over as the string JSON.parse made (adapters write strings as
// UTF-8, as they do enqueue's NDJSON lines), not copied into a Buffer a line; a string with a lone
// surrogate, which has no UTF-8 form of its own, still becomes the bytes Buffer.from writes for it.
import {describe, expect, it} from 'vitest'
import {parseExportLine} from '../../src/services/ops/message-format.js'

describe('parseExportLine payloads', () => {
  it('a well-formed text payload stays the parsed string: no Buffer per line', () => {
    const m = parseExportLine(JSON.stringify({payload: '{"n":1,"pad":"héllo ✓ 😀"}'}), 1)
    expect(m.payload).toBe('{"n":1,"pad":"héllo ✓ 😀"}')
  })

  it('a lone surrogate becomes the same bytes as before (U+FFFD), as a Buffer', () => {
    const m = parseExportLine('{"payload":"a\\ud800b"}', 1)
    expect(Buffer.isBuffer(m.payload)).toBe(true)
    expect(Buffer.compare(m.payload as Buffer, Buffer.from('a\ud800b', 'utf8'))).toBe(0)
    expect((m.payload as Buffer).toString('hex')).toBe('61efbfbd62')
  })

  it('base64 payloads are bytes', () => {
    const m = parseExportLine(JSON.stringify({payloadBase64: Buffer.from([0, 255]).toString('base64')}), 1)
    expect(Buffer.compare(m.payload as Buffer, Buffer.from([0, 255]))).toBe(0)
  })
})
