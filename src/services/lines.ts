// Lines of a text stream, a chunk's worth at a time: the lines readline's `line` events give
// (crlfDelay Infinity: \n, \r\n and a lone \r end a line; a last line without an end is kept when
// not empty), without readline's event and for-await promise per line. A 100,000-line enqueue or
// import awaited 100,000 promises (three per line through import's generators) for this.
import {StringDecoder} from 'node:string_decoder'
import type {Readable} from 'node:stream'

/** The complete lines of each chunk read, in order; the bytes are decoded as UTF-8 across chunk boundaries. */
export async function* lineChunks(input: Readable | AsyncIterable<Buffer | string>): AsyncIterable<string[]> {
  const decoder = new StringDecoder('utf8')
  let rest = ''
  for await (const chunk of input as AsyncIterable<Buffer | string | Uint8Array>) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk as Buffer)
    // only the new text is searched: a long line over many chunks stays linear
    const end = text.lastIndexOf('\n')
    if (end === -1) {
      rest += text
      continue
    }
    const lines = splitLines((rest + text.slice(0, end)).split('\n'))
    rest = text.slice(end + 1)
    if (lines.length > 0) yield lines
  }
  // readline emits a last line without an end only when it is not empty, and drops an unfinished
  // UTF-8 sequence at the very end (it never ends its decoder): the same here
  if (rest !== '') yield splitLines([rest])
}

/** Pieces between \n: a trailing \r is the \r\n's, every other \r ends a line of its own (as readline reads them). */
function splitLines(pieces: string[]): string[] {
  let out: string[] | undefined
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!
    if (!piece.includes('\r')) {
      out?.push(piece)
      continue
    }
    out ??= pieces.slice(0, i)
    const body = piece.endsWith('\r') ? piece.slice(0, -1) : piece
    for (const line of body.split('\r')) out.push(line)
  }
  return out ?? pieces
}
