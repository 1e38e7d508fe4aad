// A --handler gets job.message.body, the payload decoded as JSON, on every broker and without a
// content type (it was filled only by BullMQ): a handler module checks it on each message.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../src/broker/contract.js'
import {AMQP_URL, declareQueue, dropQueue, openAmqp, uniqueQueue} from '../adapters/amqp/helpers.js'
import {NATS_URL, admin, dropStream, makeStream, openNats, uniqueStream} from '../adapters/nats/helpers.js'
import {openRedis} from '../adapters/redis/targets.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()
const dir = mkdtempSync(join(tmpdir(), 'queuectl-body-'))
const handler = join(dir, 'check-body.mjs')
// payload → the body the handler must see (undefined: not JSON)
writeFileSync(
  handler,
  `const want = new Map([['{"n":7,"s":"x"}', {n: 7, s: 'x'}], ['[1,"two"]', [1, 'two']], ['42', 42], ['plain text', undefined]])
export default function (job) {
  const payload = job.message.payload.toString('utf8')
  if (!want.has(payload)) throw new Error('unexpected payload ' + payload)
  const got = JSON.stringify(job.message.body), expected = JSON.stringify(want.get(payload))
  if (got !== expected) throw new Error('payload ' + payload + ': body ' + got + ', expected ' + expected)
}
`,
)
const PAYLOADS = ['{"n":7,"s":"x"}', '[1,"two"]', '42', 'plain text']

interface Target {
  name: string
  url: string
  open(): Promise<Broker>
  make(): Promise<string>
  drop(queue: string): Promise<void>
}

let nats: Awaited<ReturnType<typeof admin>>
beforeAll(async () => {
  nats = await admin()
})
afterAll(async () => nats?.nc.close())

const redisUrl = 'redis://127.0.0.1:6379'
const targets: Target[] = [
  {
    name: 'a plain Redis list',
    url: redisUrl,
    open: () => openRedis(redisUrl),
    make: async () => `list:body-${process.pid}-${Date.now().toString(36)}`,
    drop: async (q) => {
      const b = await openRedis(redisUrl)
      await b.deleteQueue(q).finally(() => b.close())
    },
  },
  {name: 'RabbitMQ', url: AMQP_URL, open: () => openAmqp(), make: () => declareQueue(uniqueQueue('body')), drop: (q) => dropQueue(q)},
  {name: 'NATS JetStream', url: NATS_URL, open: () => openNats(), make: () => makeStream(nats.jsm, uniqueStream('body')), drop: (q) => dropStream(nats.jsm, q)},
]

describe.each(targets)('job.message.body on $name', (t) => {
  let queue: string
  beforeAll(async () => {
    queue = await t.make()
  })
  afterAll(async () => t.drop(queue).catch(() => {}))

  it('is the decoded JSON for payloads sent without a content type, undefined for one that is not JSON', async () => {
    const broker = await t.open()
    try {
      await broker.enqueue(queue, PAYLOADS.map((payload) => ({payload})))
    } finally {
      await broker.close()
    }
    const r = await runCli(['work', queue, '--url', t.url, '--handler', handler, '--until-empty', '--max-attempts', '1', '--on-exhausted', 'drop', '--json'], {env})
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(events.filter((e) => e.event === 'failed').map((e) => e.error)).toEqual([])
    expect(r.code).toBe(0)
    expect(events.at(-1)).toMatchObject({event: 'summary', completed: PAYLOADS.length, failed: 0})
  }, 60_000)
})
