// encodeBeeJob splices the payload's own text in as the job's data when it is canonical JSON, instead
// of stringifying the parsed value again: the stored job must stay byte for byte what
// JSON.stringify({data, options, status, progress}) of encodeData's data writes.
import {describe, expect, it, vi} from 'vitest'
import type {OutgoingMessage} from '../../src/broker/contract.js'
import {encodeBeeJob} from '../../src/adapters/redis/flavors/bee-job.js'
import {encodeData} from '../../src/adapters/redis/flavors/node-job-data.js'

/** The job JSON as it was built before: the whole object stringified at once. */
function before(message: OutgoingMessage, now: number): string {
  const {data, extra} = encodeData(message)
  if (message.name) extra.name = message.name
  const options: Record<string, unknown> = {timestamp: now, stacktraces: []}
  const at = message.delayMs && message.delayMs > 0 ? now + message.delayMs : 0
  if (at > 0) options.delay = at
  if (Object.keys(extra).length > 0) options.queuectl = extra
  return JSON.stringify({data, options, status: 'created', progress: 0})
}

const payloads: (string | Buffer)[] = [
  '{"n":1,"pad":"xxx"}',
  Buffer.from('{"n":1,"pad":"xxx"}'),
  '{ "n": 1 }', // JSON, not canonical: kept as text
  '[1,2,{"a":"é\\u0001"}]',
  '"a string"',
  '0',
  'null',
  'false',
  '',
  'plain text ✓',
  'lone \ud800 surrogate',
  '{"a":"\ud800"}',
  Buffer.from([0xff, 0xfe, 0x00, 0x80]),
  Buffer.from('{"emoji":"😀"}'),
  '{"big":12345678901234567890}',
  '{"x":1e3}',
]

describe('encodeBeeJob', () => {
  it('writes the same bytes as stringifying the whole job, for every kind of payload and option', () => {
    const now = 1_700_000_000_000
    for (const payload of payloads) {
      for (const extra of [{}, {name: 'welcome'}, {headers: {a: 'b'}, contentType: 'application/json'}, {contentType: 'text/plain'}, {delayMs: 5000, dedupId: 'id-1'}]) {
        const message: OutgoingMessage = {payload, ...extra}
        const job = encodeBeeJob(message, now)
        expect(job.json, `${String(payload)} ${JSON.stringify(extra)}`).toBe(before(message, now))
      }
    }
  })

  it('does not stringify the parsed data again for a canonical JSON payload', () => {
    const spy = vi.spyOn(JSON, 'stringify')
    try {
      encodeBeeJob({payload: '{"n":1,"pad":"xxx"}'}, 1)
      // the canonical check and the options: never an object holding the data
      for (const [value] of spy.mock.calls) expect(value && typeof value === 'object' && 'data' in value).toBe(false)
    } finally {
      spy.mockRestore()
    }
  })
})
