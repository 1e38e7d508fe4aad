// SQS through the built CLI (bin/run.js) on the emulator: the bad input, end to end.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {REGION, adminClient, createQueueWithDlq, emulatorUrl, sqsEndpoint} from './helpers.js'
import {startFaultProxy} from './fault-proxy.js'
import {CreateQueueCommand, GetQueueAttributesCommand} from '@aws-sdk/client-sqs'
import type {Lease} from '../../../src/broker/contract.js'
import {openBroker} from '../../../src/adapters/registry.js'

const admin = adminClient()
afterAll(() => admin.destroy())
const home = isolatedHome()
// No AWS settings from the developer's environment, and never a metadata lookup off loopback.
const cleanEnv: Record<string, string | undefined> = {
  ...Object.fromEntries(Object.keys(process.env).filter((k) => k.startsWith('AWS_')).map((k) => [k, undefined])),
  ...home,
  AWS_EC2_METADATA_DISABLED: 'true',
}
let n = 0
const fresh = async (hint: string, fifo = false) => (await createQueueWithDlq(admin, `cli-${hint}-${process.pid}-${n++}${fifo ? '.fifo' : ''}`)).name
const waiting = async (q: string) => {
  const r = await runCli(['inspect', q, '--url', emulatorUrl(), '--json'], {env: cleanEnv})
  return (JSON.parse(r.stdout) as {queue: {counts: {waiting: number}}}).queue.counts.waiting
}

describe('queue … on sqs://', {timeout: 90_000}, () => {
  it('missing credentials → exit 3 with what to set', async () => {
    const r = await runCli(['inspect', '--url', `sqs://?region=${REGION}`, '--endpoint', sqsEndpoint()], {env: cleanEnv})
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/AWS_ACCESS_KEY_ID/)
  })

  it('missing region → exit 3 with what to set', async () => {
    const r = await runCli(['inspect', '--url', 'sqs://', '--endpoint', sqsEndpoint()], {env: {...cleanEnv, AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's'}})
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/AWS_REGION/)
  })

  it('lists queues and shows one with its DLQ; the secret never shows', async () => {
    const q = await fresh('list')
    // the queue has a redrive policy: a peek is refused without --consume-receives (peek-receives.test.ts)
    const r = await runCli(['inspect', q, '--url', emulatorUrl(), '--peek', '1', '--consume-receives'], {env: cleanEnv})
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`${q}-dlq`)
    const all = await runCli(['inspect', '--url', emulatorUrl(), '--json'], {env: cleanEnv})
    expect(all.code).toBe(0)
    expect(all.stdout).toContain(q)
    for (const out of [r.stdout, r.stderr, all.stdout, all.stderr]) expect(out).not.toContain('testsecret')
  })

  it('a queue URL from another region → exit 2 naming the region to use', async () => {
    const eu = adminClient(sqsEndpoint(), 'eu-west-1')
    const {QueueUrl} = await eu.send(new CreateQueueCommand({QueueName: `cli-eu-${process.pid}`}))
    eu.destroy()
    const r = await runCli(['inspect', QueueUrl!, '--url', emulatorUrl()], {env: cleanEnv})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/region=eu-west-1/)
  })

  it('a FIFO send without a group id → exit 2 saying --group-id; with one it is sent', async () => {
    const q = await fresh('fifo', true)
    const r = await runCli(['enqueue', q, '{"n":1}', '--url', emulatorUrl()], {env: cleanEnv})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--group-id/)
    const ok = await runCli(['enqueue', q, '{"n":1}', '--group-id', 'g1', '--url', emulatorUrl()], {env: cleanEnv})
    expect(ok.code).toBe(0)
    expect(ok.stdout.trim()).toMatch(/^[\w-]+$/)
    expect(await waiting(q)).toBe(1)
  })

  it('a binary file too big once base64-encoded → exit 2, nothing sent', async () => {
    const q = await fresh('big')
    const file = join(home.HOME!, 'big.bin')
    writeFileSync(file, Buffer.alloc(900 * 1024, 0xff))
    const r = await runCli(['enqueue', q, '--file', file, '--url', emulatorUrl()], {env: cleanEnv})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/base64/)
    expect(await waiting(q)).toBe(0)
  })

  it('entries the service rejects → exit 1 naming them, the rest sent and counted', async () => {
    const q = await fresh('rejected')
    const proxy = await startFaultProxy(sqsEndpoint(), {failEntries: {bodyMatches: /"bad"/, times: 1000, senderFault: true}})
    try {
      const input = ['{"ok":1}', '{"bad":2}', '{"ok":3}', '{"bad":4}', '{"ok":5}'].join('\n') + '\n'
      const r = await runCli(['enqueue', q, '--url', emulatorUrl(), '--endpoint', proxy.endpoint], {env: cleanEnv, input})
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/3 .*sent/)
      expect(r.stderr).toMatch(/index 1 .*index 3 /)
      expect(await waiting(q)).toBe(3)
    } finally {
      await proxy.close()
    }
  })

  it('throttling → backs off, continues, exit 0 with every message sent', async () => {
    const q = await fresh('throttle')
    const proxy = await startFaultProxy(sqsEndpoint(), {throttle: {action: 'SendMessageBatch', times: 5}})
    try {
      const input = Array.from({length: 40}, (_, i) => JSON.stringify({i})).join('\n') + '\n'
      const r = await runCli(['enqueue', q, '--url', emulatorUrl(), '--endpoint', proxy.endpoint], {env: cleanEnv, input})
      expect(r.code).toBe(0)
      expect(r.stdout.trim().split('\n')).toHaveLength(40)
      expect(proxy.throttled).toBe(5)
      expect(await waiting(q)).toBe(40)
    } finally {
      await proxy.close()
    }
  }, 60_000)

  it('a delay over 15 minutes → exit 4', async () => {
    const q = await fresh('delay')
    const r = await runCli(['enqueue', q, '{}', '--delay', '20m', '--url', emulatorUrl()], {env: cleanEnv})
    expect(r.code).toBe(4)
    const attrs = await admin.send(new GetQueueAttributesCommand({QueueUrl: (await admin.send(new CreateQueueCommand({QueueName: q}))).QueueUrl, AttributeNames: ['ApproximateNumberOfMessagesDelayed']}))
    expect(attrs.Attributes?.ApproximateNumberOfMessagesDelayed).toBe('0')
  })

  it('queue retry moves dead letters back from the DLQ (receive → send → delete on the emulator)', async () => {
    const q = await fresh('retry')
    const broker = await openBroker(emulatorUrl(), {timeoutMs: 5000})
    try {
      await broker.enqueue(q, [{payload: 'a'}, {payload: 'b'}, {payload: 'c'}])
      const leases: Lease[] = []
      const sub = await broker.consume(q, (l) => leases.push(l), {prefetch: 3})
      while (leases.length < 3) await new Promise((r) => setTimeout(r, 50))
      await sub.close()
      for (const l of leases) await l.deadLetter('failed in test')
    } finally {
      await broker.close()
    }
    const r = await runCli(['retry', q, '--yes', '--url', emulatorUrl(), '--json'], {env: cleanEnv})
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/"retried":\s*3/)
    const after = await runCli(['inspect', q, '--url', emulatorUrl(), '--json'], {env: cleanEnv})
    expect(JSON.parse(after.stdout).queue.counts).toMatchObject({waiting: 3, dead: 0})
  })
})

describe('enqueue --create on SQS', () => {
  it('makes a queue that is not there yet and sends to it; without --create the error names it', async () => {
    const q = `qctl-create-${Date.now().toString(36)}`
    const refused = await runCli(['enqueue', q, '{"a":1}', '--url', emulatorUrl()], {env: cleanEnv})
    expect(refused.code).toBe(4)
    expect(refused.stderr).toMatch(/--create/)
    const made = await runCli(['enqueue', q, '{"a":1}', '--create', '--url', emulatorUrl()], {env: cleanEnv})
    expect(made.stderr).toBe('')
    expect(made.code).toBe(0)
    const r = await runCli(['inspect', q, '--url', emulatorUrl(), '--json'], {env: cleanEnv})
    expect(JSON.parse(r.stdout).queue.counts.waiting).toBe(1)
  })
})

