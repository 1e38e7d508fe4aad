// lineChunks reads the lines readline reads (enqueue and import used readline's line events and
// now a chunk of lines at a time): the same lines for any bytes cut into any chunks, and a
// promise a chunk, not a line.
import {createInterface} from 'node:readline'
import {Readable} from 'node:stream'
import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {lineChunks} from '../../src/services/lines.js'
import {readNdjson} from '../../src/services/payloads.js'

// Node 24's readline also ends a line at U+2028 and U+2029, which JSON allows raw inside a string:
// an NDJSON line holding one would be cut in two. lineChunks ends lines at \n and \r only (as
// readline did before); the oracle gets them as U+2027 and U+2026 (same UTF-8 length), put back after.
const SEPARATORS: [Buffer, Buffer, string, string][] = [
  [Buffer.from('\u2028'), Buffer.from('\u2027'), '\u2027', '\u2028'],
  [Buffer.from('\u2029'), Buffer.from('\u2026'), '\u2026', '\u2029'],
]

function swapped(chunk: Buffer): Buffer {
  const out = Buffer.from(chunk)
  for (const [from, to] of SEPARATORS) for (let i = out.indexOf(from); i >= 0; i = out.indexOf(from, i + 1)) to.copy(out, i)
  return out
}

async function viaReadline(chunks: Buffer[]): Promise<string[]> {
  const out: string[] = []
  for await (const line of createInterface({input: Readable.from(chunks), crlfDelay: Infinity})) out.push(line)
  return out
}

/** readline's lines of the bytes, with U+2028/U+2029 kept inside their lines. */
async function oracle(all: Buffer, at: number[]): Promise<string[]> {
  const whole = swapped(all)
  const chunks: Buffer[] = []
  let from = 0
  for (const c of [...at, whole.length]) {
    if (c > from) chunks.push(whole.subarray(from, c))
    from = Math.max(from, c)
  }
  return (await viaReadline(chunks)).map((line) => SEPARATORS.reduce((l, [, , stand, real]) => l.replaceAll(stand, real), line))
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
        // the oracle's stand-ins must not be in the bytes already
        fc.pre(SEPARATORS.every(([, stand]) => !all.includes(stand)))
        expect(await viaChunks(chunks)).toEqual(await oracle(all, at))
      }),
      {numRuns: 2000},
    )
  })

  it('keeps a raw U+2028 or U+2029 inside a JSON string on its line (JSON allows them; the readline of Node 24 cut the line there)', async () => {
    const text = '{"a":"x\u2028y"}\n{"b":"\u2029"}\n'
    expect(await viaChunks([Buffer.from(text)])).toEqual(['{"a":"x\u2028y"}', '{"b":"\u2029"}'])
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
