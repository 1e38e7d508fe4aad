// Looking costs nothing (issue 20): on SQS a peek is a receive, and on a queue with a redrive policy
// each receive brings a message closer to the DLQ. So inspect --peek, export (without --consume)
// and top's drill-down refuse there (exit 4, naming maxReceiveCount) unless --consume-receives.
import {render} from 'ink-testing-library'
import {Text} from 'ink'
import {createElement as h} from 'react'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CreateQueueCommand} from '@aws-sdk/client-sqs'
import type {Broker, Capabilities, Lease} from '../../../src/broker/contract.js'
import {openBroker} from '../../../src/adapters/registry.js'
import {usePeek} from '../../../src/tui/hooks/use-peek.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {adminClient, createQueueWithDlq, dropQueueWithDlq, emulatorUrl} from './helpers.js'

const admin = adminClient()
const env = {...isolatedHome(), AWS_EC2_METADATA_DISABLED: 'true'}
let broker: Broker
let n = 0
const made: string[] = []
const fresh = async (hint: string, maxReceiveCount = 2) => {
  const q = (await createQueueWithDlq(admin, `peekrx-${hint}-${process.pid}-${n++}`, {maxReceiveCount})).name
  made.push(q)
  return q
}
const payloads = (k: number) => [...Array(k)].map((_, i) => ({payload: `{"n":${i}}`}))
const REFUSAL = /^Error: will not peek "peekrx-\S+": on SQS a peek is a receive, and its redrive policy moves a message to "peekrx-\S+-dlq" after maxReceiveCount 2 receives — pass --consume-receives to peek anyway/

/** Receives every message once (as a worker would), acks them and returns their attempts. */
async function work(queue: string, count: number): Promise<number[]> {
  const leases: Lease[] = []
  const sub = await broker.consume(queue, (l) => leases.push(l), {prefetch: count, pollWaitMs: 1000})
  const until = Date.now() + 15_000
  while (leases.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  await sub.close()
  await Promise.all(leases.map((l) => l.ack()))
  return leases.map((l) => l.message.attempts)
}

beforeAll(async () => {
  broker = await openBroker(emulatorUrl('&wait=1'), {timeoutMs: 5000})
})
afterAll(async () => {
  await broker?.close()
  for (const q of made) await dropQueueWithDlq(admin, q)
  admin.destroy()
}, 30_000)

describe('peeking an SQS queue with a redrive policy', {timeout: 90_000}, () => {
  it('inspect --peek and export refuse (exit 4, one line): no message reaches the DLQ before a worker saw it', async () => {
    const q = await fresh('cli')
    await broker.enqueue(q, payloads(6))
    const inspect = await runCli(['inspect', q, '--url', emulatorUrl(), '--peek', '10'], {env})
    const exported = await runCli(['export', q, '--url', emulatorUrl()], {env})
    for (const r of [inspect, exported]) {
      expect(r.code).toBe(4)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(REFUSAL)
    }
    expect(exported.stdout).toBe('')
    // the first receive of each: nothing counted, nothing moved
    expect(await work(q, 6)).toEqual([1, 1, 1, 1, 1, 1])
    expect(await broker.peek(q, {limit: 10, state: 'dead'})).toEqual([])
  })

  it('--consume-receives peeks anyway, and says what it cost', async () => {
    const q = await fresh('optin', 5)
    await broker.enqueue(q, payloads(2))
    const inspect = await runCli(['inspect', q, '--url', emulatorUrl(), '--peek', '10', '--json', '--consume-receives'], {env})
    expect(inspect.code, inspect.stderr).toBe(0)
    const out = JSON.parse(inspect.stdout) as {messages: unknown[]; note: string}
    expect(out.messages).toHaveLength(2)
    expect(out.note).toMatch(/receive counts went up/)
    const exported = await runCli(['export', q, '--url', emulatorUrl(), '--consume-receives'], {env})
    expect(exported.code, exported.stderr).toBe(0)
    expect(exported.stdout.trim().split('\n')).toHaveLength(2)
    expect(await work(q, 2)).toEqual([3, 3]) // two peeks counted, as asked (with maxReceiveCount 2 they would be dead now)
  })

  it('the adapter refuses whoever calls it; the dead-letter queue (no redrive policy of its own) and plain queues still peek', async () => {
    const q = await fresh('adapter')
    await broker.enqueue(q, payloads(1))
    await expect(broker.peek(q, {limit: 5})).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/maxReceiveCount 2 .* --consume-receives/)})
    await expect(broker.peek(q, {limit: 5, state: 'dead'})).resolves.toEqual([])
    const plain = `peekrx-plain-${process.pid}-${n++}`
    await admin.send(new CreateQueueCommand({QueueName: plain}))
    made.push(plain)
    await broker.enqueue(plain, payloads(1))
    expect(await broker.peek(plain, {limit: 5})).toHaveLength(1)
    expect(await work(q, 1)).toEqual([1])
  })

  it("top's drill-down peeks through the same service and shows the refusal in its peek pane", async () => {
    const q = await fresh('top')
    await broker.enqueue(q, payloads(1))
    const caps: Capabilities = await broker.capabilitiesOf(q)
    function Pane() {
      const peek = usePeek(broker, q, caps, 'waiting', {limit: 5, intervalMs: 1000, paused: false, token: 0})
      return h(Text, null, `loading=${peek.loading} messages=${peek.messages.length} error=${peek.error ?? '-'}`)
    }
    const app = render(h(Pane))
    try {
      const until = Date.now() + 10_000
      while (!/error=will not peek/.test(app.lastFrame() ?? '') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
      // the pane wraps long lines
      expect((app.lastFrame() ?? '').replace(/\s+/g, ' ')).toMatch(/messages=0 error=will not peek "peekrx-top-\S+": .* maxReceiveCount 2 .* --consume-receives/)
    } finally {
      app.unmount()
    }
    expect(await work(q, 1)).toEqual([1])
  })
})
