// export → import across brokers, byte for byte: binary payloads, UTF-8 text, JSON, names, headers
// and content types survive AMQP → SQS, Redis list → AMQP, SQS → BullMQ and BullMQ → Redis list.
import {afterAll, describe, expect, it} from 'vitest'
import type {OutgoingMessage} from '../../src/broker/contract.js'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {open, targets, type OpsTarget} from '../ops/targets.js'

const env = {...isolatedHome(), AWS_EC2_METADATA_DISABLED: 'true'}
const byName = Object.fromEntries(targets().map((t) => [t.name, t]))
const made: {t: OpsTarget; q: string}[] = []
afterAll(async () => {
  await Promise.allSettled(made.map(({t, q}) => t.drop(q)))
}, 120_000)

// every byte value, NULs and invalid UTF-8 included
const binary = Buffer.from([...Array(256)].map((_, i) => (i * 97 + 13) % 256))
const MESSAGES: OutgoingMessage[] = [
  {name: 'bin', payload: binary, contentType: 'application/octet-stream', headers: {kind: 'binary'}},
  {name: 'text', payload: 'héllo wörld ✓\n\tsecond line', contentType: 'text/plain; charset=utf-8', headers: {tenant: 'acme', 'trace-id': 't-1'}},
  {name: 'json', payload: '{"a":[1,2,3],"b":"c"}', contentType: 'application/json', headers: {seq: '3'}},
  {name: 'spaced-json', payload: '{ "kept": "as is" }', contentType: 'application/json', headers: {seq: '4'}},
]

interface Line {
  name?: string
  contentType?: string
  headers: Record<string, string>
  payload?: string
  payloadBase64?: string
}

/** What must survive, as bytes, sorted by name. */
function essence(stdout: string) {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line)
    .map((m) => ({
      name: m.name,
      contentType: m.contentType,
      headers: m.headers,
      bytes: (m.payloadBase64 !== undefined ? Buffer.from(m.payloadBase64, 'base64') : Buffer.from(m.payload ?? '', 'utf8')).toString('hex'),
    }))
    .sort((a, b) => String(a.name).localeCompare(String(b.name)))
}

const expected = MESSAGES.map((m) => ({
  name: m.name,
  contentType: m.contentType,
  headers: m.headers,
  bytes: (typeof m.payload === 'string' ? Buffer.from(m.payload, 'utf8') : m.payload).toString('hex'),
})).sort((a, b) => String(a.name).localeCompare(String(b.name)))

describe.each([
  ['rabbitmq', 'sqs'],
  ['redis list', 'rabbitmq'],
  ['sqs', 'redis bullmq'],
  ['redis bullmq', 'redis list'],
])('export from %s → import into %s', (fromName, toName) => {
  it('round-trips payload bytes, names, headers and content types exactly', async () => {
    const from = byName[fromName]!
    const to = byName[toName]!
    const src = await from.fresh('rt-src')
    made.push({t: from, q: src})
    const dst = await to.fresh('rt-dst')
    made.push({t: to, q: dst})
    const b = await open(from.url())
    try {
      await b.enqueue(src, MESSAGES)
    } finally {
      await b.close()
    }
    const exported = await runCli(['export', src, '--url', from.url(), ...(from.peekFlags ?? [])], {env})
    expect(exported.code).toBe(0)
    expect(essence(exported.stdout)).toEqual(expected)
    const imported = await runCli(['import', dst, '--url', to.url()], {env, input: exported.stdout})
    expect(imported.stderr).toBe('')
    expect(imported.code).toBe(0)
    expect(imported.stdout).toMatch(/imported 4 messages/)
    const back = await runCli(['export', dst, '--url', to.url(), ...(to.peekFlags ?? [])], {env})
    expect(back.code).toBe(0)
    expect(essence(back.stdout)).toEqual(expected)
  }, 180_000)
})
