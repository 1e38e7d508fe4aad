// lineChunks reads the lines readline reads (enqueue and import used readline's line events and
// now a chunk of lines at a time): the same lines for any bytes cut into any chunks, and a
// promise a chunk, not a line.
import {createInterface} from 'node:readline'
import {Readable} from 'node:stream'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {lineChunks} from '../../src/services/lines.js'
import {readNdjson} from '../../src/services/payloads.js'

async function viaReadline(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = []
  for await (const line of createInterface({input: Readable.from(chunks), crlfDelay: Infinity})) out.push(line)
  return out
}

async function viaChunks(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = []
  for await (const lines of lineChunks(Readable.from(chunks))) out.push(...lines)
  return out
}

describe('lineChunks', () => {
  it('gives the lines readline gives, for any bytes in any chunks', async () => {
    const piece = fc.oneof(
      fc.constantFrom('\n', '\r', '\r\n', '\n\r', '\r\r', '', ' ', '{"a":1}', 'é', '€', '😀', '\u2028', '\uFEFF'),
      fc.string({maxLength: 8}),
    )
    const bytes = fc.oneof(
      fc.array(piece, {maxLength: 30}).map((parts) => Buffer.from(parts.join(''))),
      fc.uint8Array({maxLength: 200}).map((a) => Buffer.from(a)),
    )
    await fc.assert(
      fc.asyncProperty(bytes, fc.array(fc.nat(), {maxLength: 6}), async (all, cuts) => {
        // cut the bytes anywhere, inside a UTF-8 sequence or between \r and \n too
        const at = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b)
        const chunks: Buffer[] = []
        let from = 0
        for (const c of [...at, all.length]) {
          if (c > from) chunks.push(all.subarray(from, c))
          from = Math.max(from, c)
        }
        expect(await viaChunks(chunks)).toEqual(await viaReadline(chunks))
      }),
      {numRuns: 2000},
    )
  })

  it('yields a chunk of lines, not a line, at a time', async () => {
    const text = Array.from({length: 1000}, (_, i) => `{"i":${i}}`).join('\n') + '\n'
    const got: string[][] = []
    for await (const lines of lineChunks(Readable.from([Buffer.from(text)]))) got.push(lines)
    expect(got).toHaveLength(1)
    expect(got[0]).toHaveLength(1000)
  })
})

describe('readNdjson spooled', () => {
  it('gives the spooled lines back a chunk at a time, in order, with their line numbers', async () => {
    const n = 60_000
    const pad = 'x'.repeat(150)
    async function* gen() {
      for (let i = 0; i < n; i++) yield `{"i":${i},"pad":"${pad}"}\n${i % 1000 === 0 ? '\n' : ''}`
    }
    const lines = await readNdjson(Readable.from(gen()))
    expect(lines.bytes).toBeGreaterThan(8 * 1024 * 1024)
    let expected = 0
    let chunks = 0
    let blank = 0
    for await (const chunk of lines.chunks() as AsyncIterable<{text: string; line: number}[]>) {
      chunks++
      for (const {text, line} of chunk) {
        expect(JSON.parse(text).i).toBe(expected)
        expect(line).toBe(expected + 1 + blank)
        if (expected % 1000 === 0) blank++
        expected++
      }
    }
    expect(expected).toBe(n)
    expect(chunks).toBeLessThan(n / 100)
    await lines.dispose()
  })
})
