// SASL PLAIN on a private broker (scripts/kafka.sh with its own port, cache dir and a SASL
// listener): the right password works, a wrong one is exit 3 with the password never shown.
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {freePort} from '../../reliability/harness.js'
import {ROOT, SCRIPT, ensureKafka} from './helpers.js'

const run = promisify(execFile)
const missing = await ensureKafka()
const env = isolatedHome()
const dir = mkdtempSync(join(tmpdir(), 'queuectl-kafka-sasl-'))
let brokerEnv: Record<string, string> = {}
let port = 0

describe.skipIf(Boolean(missing))(`kafka:// SASL PLAIN on a private broker${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    port = await freePort()
    const controller = await freePort()
    writeFileSync(
      join(dir, 'sasl.properties'),
      [
        `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
        `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
        'inter.broker.listener.name=SASL_PLAINTEXT',
        'sasl.enabled.mechanisms=PLAIN',
        'sasl.mechanism.inter.broker.protocol=PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw" user_alice="alice-pw";',
      ].join('\n') + '\n',
    )
    // the jars of the shared cache, a log dir of its own
    mkdirSync(join(dir, 'cache'))
    symlinkSync(join(ROOT, 'kafka/.cache/lib'), join(dir, 'cache/lib'))
    brokerEnv = {KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controller), KAFKA_CACHE: join(dir, 'cache'), KAFKA_EXTRA_PROPS: join(dir, 'sasl.properties'), KAFKA_HEAP: '256m'}
    await run(SCRIPT, ['start'], {env: {...process.env, ...brokerEnv}, timeout: 180_000})
  }, 200_000)

  afterAll(async () => {
    await run(SCRIPT, ['stop'], {env: {...process.env, ...brokerEnv}, timeout: 60_000}).catch(() => {})
    rmSync(dir, {recursive: true, force: true})
  }, 70_000)

  it('the right password produces and counts; a wrong one is exit 3, redacted', async () => {
    const good = `kafka://alice:alice-pw@127.0.0.1:${port}`
    const made = await runCli(['enqueue', '--create', 'wt-kafka-sasl', 'hi', '--url', good], {env})
    expect(made.code, made.stderr).toBe(0)
    const stats = JSON.parse((await runCli(['inspect', 'wt-kafka-sasl', '--json', '--url', good], {env})).stdout)
    expect(stats.queue.counts.waiting).toBe(1)
    expect(stats.broker).toBe(`kafka://alice:***@127.0.0.1:${port}`)

    const bad = await runCli(['inspect', 'wt-kafka-sasl', '--url', `kafka://alice:wrong-secret@127.0.0.1:${port}`], {env})
    expect(bad.code).toBe(3)
    expect(bad.stderr).toMatch(/refused the login/)
    expect(bad.stderr + bad.stdout).not.toContain('wrong-secret')
  }, 60_000)
})
