// What the issue lists as bad input, on the emulator: each refused with one clear line and the
// documented exit code, and nothing half-sent unless the service itself rejected it.
import {CreateQueueCommand, SetQueueAttributesCommand} from '@aws-sdk/client-sqs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {createBroker, openBroker} from '../../../src/adapters/registry.js'
import {EnqueueError} from '../../../src/kernel/errors.js'
import {REGION, adminClient, createQueueWithDlq, emulatorUrl, sqsEndpoint} from './helpers.js'
import {startFaultProxy} from './fault-proxy.js'

const admin = adminClient()
let broker: Broker
let n = 0
const fresh = async (hint: string, fifo = false, contentDedup = true) =>
  (await createQueueWithDlq(admin, `${hint}-${process.pid}-${n++}${fifo ? '.fifo' : ''}`, {contentDedup})).name
const waiting = async (q: string) => (await broker.stats(q)).counts.waiting

beforeAll(async () => {
  broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
})
afterAll(async () => {
  await broker?.close()
  admin.destroy()
})

describe('connection settings', () => {
  const saved = {...process.env}
  beforeAll(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
    // no instance metadata lookups (never leave loopback) and no developer's ~/.aws files
    process.env.AWS_EC2_METADATA_DISABLED = 'true'
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config'
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/aws-credentials'
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  })
  afterAll(() => {
    for (const key of Object.keys(process.env)) if (key.startsWith('AWS_')) delete process.env[key]
    Object.assign(process.env, saved)
  })

  it('missing region → exit 3 saying to set AWS_REGION or ?region=', async () => {
    const b = await createBroker(`sqs://?endpoint=${sqsEndpoint()}`, {timeoutMs: 3000})
    const error = await b.connect().then(() => undefined, (e: unknown) => e)
    await b.close()
    expect(error).toMatchObject({exitCode: 3})
    expect((error as Error).message).toMatch(/AWS_REGION.*region=/)
  })

  it('missing credentials → exit 3 saying what to set', async () => {
    const b = await createBroker(`sqs://?region=${REGION}&endpoint=${sqsEndpoint()}`, {timeoutMs: 3000})
    const error = await b.connect().then(() => undefined, (e: unknown) => e)
    await b.close()
    expect(error).toMatchObject({exitCode: 3})
    expect((error as Error).message).toMatch(/AWS_ACCESS_KEY_ID/)
  })

  it('an endpoint nobody listens on → exit 3 within the timeout', async () => {
    const b = await createBroker(`sqs://k:s@127.0.0.1:9?region=${REGION}`, {timeoutMs: 2000})
    const started = Date.now()
    await expect(b.connect()).rejects.toMatchObject({exitCode: 3})
    expect(Date.now() - started).toBeLessThan(10_000)
    await b.close()
  })

  it('never shows the secret, and refuses unknown URL options', async () => {
    const b = await createBroker(emulatorUrl(), {timeoutMs: 3000})
    expect(b.displayUrl).not.toContain('testsecret')
    expect(b.displayUrl).toContain('region=us-east-1')
    await b.close()
    await expect(createBroker(`${emulatorUrl()}&regoin=x`, {timeoutMs: 1000})).rejects.toMatchObject({exitCode: 2})
  })
})

describe('queue URLs', () => {
  it('accepts a full queue URL of its own region', async () => {
    const q = await fresh('byurl')
    const full = (await broker.stats(q)).details!.queueUrl as string
    await broker.enqueue(full, [{payload: 'via url'}])
    expect(full).toMatch(/^http:\/\/.*\/byurl-/)
    expect((await broker.stats(full)).counts.waiting).toBe(1)
    expect((await broker.stats(q)).counts.waiting).toBe(1)
  })

  it('a queue URL from another region → exit 2 naming both regions and the fix', async () => {
    const eu = adminClient(sqsEndpoint(), 'eu-west-1')
    const {QueueUrl} = await eu.send(new CreateQueueCommand({QueueName: `eu-${process.pid}`}))
    eu.destroy()
    const error = await broker.stats(QueueUrl!).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({exitCode: 2})
    expect((error as Error).message).toMatch(/eu-west-1.*us-east-1.*region=eu-west-1/)
  })

  it('an unknown queue → exit 4 with near names', async () => {
    const q = await fresh('spelled')
    const error = await broker.stats(q.slice(0, -1)).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({exitCode: 4})
    expect((error as Error).message).toContain(q)
  })
})

describe('enqueue refuses before sending anything', () => {
  it('a FIFO send without a group id → exit 2 saying what to pass', async () => {
    const q = await fresh('nogroup', true)
    const error = await broker.enqueue(q, [{payload: 'a', groupId: 'g'}, {payload: 'b'}]).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({exitCode: 2})
    expect((error as Error).message).toMatch(/index 1.*groupId.*group=/)
    expect(await waiting(q)).toBe(0)
  })

  it('a FIFO send without dedup id on a queue without content-based dedup → exit 2', async () => {
    const q = await fresh('nodedup', true, false)
    await expect(broker.enqueue(q, [{payload: 'a', groupId: 'g'}])).rejects.toMatchObject({exitCode: 2})
    const ids = await broker.enqueue(q, [{payload: 'a', groupId: 'g', dedupId: 'd1'}, {payload: 'a', groupId: 'g', dedupId: 'd1'}])
    expect(ids[0]).toBe(ids[1]) // the second is a duplicate SQS drops
    expect(await waiting(q)).toBe(1)
  })

  it('a delay over 15 minutes → exit 4 with the alternative', async () => {
    const q = await fresh('longdelay')
    const error = await broker.enqueue(q, [{payload: 'ok'}, {payload: 'late', delayMs: 901_000}]).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({exitCode: 4})
    expect((error as Error).message).toMatch(/index 1.*900 s.*schedule/)
    expect(await waiting(q)).toBe(0)
  })

  it('a per-message delay on a FIFO queue, or a priority → exit 4', async () => {
    const q = await fresh('fifodelay', true)
    await expect(broker.enqueue(q, [{payload: 'x', groupId: 'g', delayMs: 1000}])).rejects.toMatchObject({exitCode: 4})
    await expect(broker.enqueue(q, [{payload: 'x', groupId: 'g', priority: 5}])).rejects.toMatchObject({exitCode: 4})
  })

  it('an oversized message → exit 2 naming its index, nothing sent', async () => {
    const q = await fresh('toobig')
    const big = 'x'.repeat(1_048_577) // one byte over: exactly 1 MiB is allowed
    const error = await broker.enqueue(q, [{payload: 'small'}, {payload: 'small'}, {payload: big}]).then(() => undefined, (e: unknown) => e)
    expect(error).toMatchObject({exitCode: 2})
    expect((error as Error).message).toMatch(/index 2 is 1048577 bytes .*at most 1048576 bytes/)
    expect(await waiting(q)).toBe(0)
  })

  it('headers SQS cannot carry → exit 2', async () => {
    const q = await fresh('headers')
    await expect(broker.enqueue(q, [{payload: 'x', headers: {'bad key': 'v'}}])).rejects.toMatchObject({exitCode: 2})
    const eleven = Object.fromEntries(Array.from({length: 11}, (_, i) => [`h${i}`, 'v']))
    await expect(broker.enqueue(q, [{payload: 'x', headers: eleven}])).rejects.toMatchObject({exitCode: 2})
  })
})

describe('partial batch failures and throttling', () => {
  it('entries the service rejects are reported by index, exit 1, never counted as sent', async () => {
    const q = await fresh('rejects')
    await broker.enqueue(q, [{payload: 'warm the attribute cache'}])
    await broker.purge(q)
    // another operator lowers the limit: the adapter's cached view is stale, the service refuses
    const url = (await broker.stats(q)).details!.queueUrl as string
    await admin.send(new SetQueueAttributesCommand({QueueUrl: url, Attributes: {MaximumMessageSize: '1024'}}))
    const messages = ['a', 'x'.repeat(2000), 'b', 'y'.repeat(2000), 'c'].map((payload) => ({payload}))
    const error = await broker.enqueue(q, messages).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(EnqueueError)
    expect(error).toMatchObject({exitCode: 1, sent: 3})
    expect((error as Error).message).toMatch(/rejected 2 of 5.*index 1 .*index 3 /)
    expect(await waiting(q)).toBe(3)
  })

  it('retryable rejected entries are retried and sent once', async () => {
    const q = await fresh('retryable')
    const proxy = await startFaultProxy(sqsEndpoint(), {failEntries: {bodyMatches: /^flaky/, times: 2}})
    const b = await openBroker(emulatorUrl(), {timeoutMs: 5000, options: {endpoint: proxy.endpoint}})
    try {
      const messages = Array.from({length: 30}, (_, i) => ({payload: i % 7 === 0 ? `flaky-${i}` : `fine-${i}`}))
      const ids = await b.enqueue(q, messages)
      expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true)
      expect(proxy.failedEntries).toBe(2 * 5) // 5 flaky messages, each refused twice
      expect(await waiting(q)).toBe(30)
    } finally {
      await b.close()
      await proxy.close()
    }
  })

  it('entries that stay retryable-failed are reported, exit 1', async () => {
    const q = await fresh('stuck')
    const proxy = await startFaultProxy(sqsEndpoint(), {failEntries: {bodyMatches: /^stuck/, times: 1000}})
    const b = await openBroker(emulatorUrl(), {timeoutMs: 5000, options: {endpoint: proxy.endpoint}})
    try {
      const error = await b.enqueue(q, [{payload: 'ok-0'}, {payload: 'stuck-1'}, {payload: 'ok-2'}]).then(() => undefined, (e: unknown) => e)
      expect(error).toMatchObject({exitCode: 1, sent: 2})
      expect((error as Error).message).toMatch(/index 1 \(InternalError/)
      expect(await waiting(q)).toBe(2)
    } finally {
      await b.close()
      await proxy.close()
    }
  }, 60_000)

  it('throttling → backs off and continues until everything is sent', async () => {
    const q = await fresh('throttled')
    const proxy = await startFaultProxy(sqsEndpoint(), {throttle: {action: 'SendMessageBatch', times: 6}})
    const b = await openBroker(emulatorUrl(), {timeoutMs: 5000, options: {endpoint: proxy.endpoint}})
    try {
      const ids = await b.enqueue(q, Array.from({length: 50}, (_, i) => ({payload: `t${i}`})))
      expect(new Set(ids).size).toBe(50)
      expect(proxy.throttled).toBe(6)
      expect(await waiting(q)).toBe(50)
    } finally {
      await b.close()
      await proxy.close()
    }
  }, 60_000)
})
