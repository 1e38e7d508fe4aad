// SASL PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 on a private broker (scripts/kafka.sh with its own
// ports, cache dir and a SASL listener; the SCRAM users made at format with --add-scram): the right
// password works for the topic and the share-group flavor, a wrong one or a wrong mechanism is
// exit 3, and no password is ever shown, whatever the output.
import {execFile} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli, type CliResult} from '../../helpers/cli.js'
import {freePort} from '../../reliability/harness.js'
import {ROOT, SCRIPT, ensureKafka} from './helpers.js'

const run = promisify(execFile)
const missing = await ensureKafka()
const env = isolatedHome()
const dir = mkdtempSync(join(tmpdir(), 'queuectl-kafka-sasl-'))
let brokerEnv: Record<string, string> = {}
let port = 0

// one user per mechanism (SCRAM credentials are per mechanism), each with a password of its own
const USERS = [
  {mechanism: 'plain', user: 'alice', password: 'pl41n-Pw-alice'},
  {mechanism: 'scram-sha-256', user: 'bob', password: 'scr4m256-Pw-bob'},
  {mechanism: 'scram-sha-512', user: 'carol', password: 'scr4m512-Pw-carol'},
] as const
const SECRETS = [...USERS.map((u) => u.password), 'admin-pw', 'wrong-secret']

function noSecret(...results: CliResult[]): void {
  for (const r of results) for (const s of SECRETS) expect(r.stdout + r.stderr, `${s} shown`).not.toContain(s)
}

describe.skipIf(Boolean(missing))(`kafka:// SASL PLAIN and SCRAM on a private broker${missing ? ` (skipped: ${missing})` : ''}`, () => {
  beforeAll(async () => {
    port = await freePort()
    const controller = await freePort()
    writeFileSync(
      join(dir, 'sasl.properties'),
      [
        `listeners=SASL_PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
        `advertised.listeners=SASL_PLAINTEXT://127.0.0.1:${port}`,
        'inter.broker.listener.name=SASL_PLAINTEXT',
        'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol=PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-pw" user_admin="admin-pw" user_alice="pl41n-Pw-alice";',
        'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
        'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      ].join('\n') + '\n',
    )
    // the jars of the shared cache, a log dir of its own
    mkdirSync(join(dir, 'cache'))
    symlinkSync(join(ROOT, 'kafka/.cache/lib'), join(dir, 'cache/lib'))
    brokerEnv = {
      KAFKA_PORT: String(port),
      KAFKA_CONTROLLER_PORT: String(controller),
      KAFKA_CACHE: join(dir, 'cache'),
      KAFKA_EXTRA_PROPS: join(dir, 'sasl.properties'),
      KAFKA_HEAP: '256m',
      KAFKA_ADD_SCRAM: USERS.filter((u) => u.mechanism !== 'plain')
        .map((u) => `${u.mechanism.toUpperCase()}=[name=${u.user},password=${u.password}]`)
        .join('\n'),
    }
    await run(SCRIPT, ['start'], {env: {...process.env, ...brokerEnv}, timeout: 180_000})
  }, 200_000)

  afterAll(async () => {
    await run(SCRIPT, ['stop'], {env: {...process.env, ...brokerEnv}, timeout: 60_000}).catch(() => {})
    rmSync(dir, {recursive: true, force: true})
  }, 70_000)

  for (const {mechanism, user, password} of USERS) {
    it(`${mechanism}: the right password produces and counts, redacted everywhere; a wrong one is exit 3`, async () => {
      const topic = `wt-kafka-sasl-${mechanism}`
      const good = `kafka://${user}:${password}@127.0.0.1:${port}?mechanism=${mechanism}`
      const made = await runCli(['enqueue', '--create', topic, 'hi', '--url', good], {env})
      expect(made.code, made.stderr).toBe(0)
      const json = await runCli(['inspect', topic, '--json', '--url', good], {env})
      const stats = JSON.parse(json.stdout)
      expect(stats.queue.counts.waiting).toBe(1)
      expect(stats.broker).toBe(`kafka://${user}:***@127.0.0.1:${port}?mechanism=${mechanism}`)
      const table = await runCli(['inspect', topic, '--url', good], {env})
      expect(table.code, table.stderr).toBe(0)
      expect(table.stdout).toContain(topic)
      const peek = await runCli(['inspect', topic, '--peek', '1', '--url', good], {env})
      expect(peek.code, peek.stderr).toBe(0)
      // the share flavor's own connections log in too: a group nobody joined is exit 4, not a refused login
      const share = await runCli(['inspect', `share:${topic}/nobody`, '--url', good], {env})
      expect(share.code, share.stderr).toBe(4)
      expect(share.stderr).toMatch(/share group "nobody" does not exist/)

      const bad = await runCli(['inspect', topic, '--url', `kafka://${user}:wrong-secret@127.0.0.1:${port}?mechanism=${mechanism}`], {env})
      expect(bad.code).toBe(3)
      expect(bad.stderr).toMatch(/refused the login/)
      expect(bad.stderr).toContain(`kafka://${user}:***@127.0.0.1:${port}`)
      const badJson = await runCli(['inspect', topic, '--json', '--url', `kafka://${user}:wrong-secret@127.0.0.1:${port}?mechanism=${mechanism}`], {env})
      expect(badJson.code).toBe(3)
      noSecret(made, json, table, peek, share, bad, badJson)
    }, 90_000)
  }

  it('a SCRAM user with the wrong mechanism (the flag, or plain by default) is refused, exit 3, redacted', async () => {
    const {user, password} = USERS[2]
    const url = `kafka://${user}:${password}@127.0.0.1:${port}`
    // the mechanism from the connection flag instead of the URL
    const flag = await runCli(['inspect', 'wt-kafka-sasl-scram-sha-512', '--json', '--url', url, '--sasl-mechanism', 'scram-sha-512'], {env})
    expect(flag.code, flag.stderr).toBe(0)
    const wrong = await runCli(['inspect', 'wt-kafka-sasl-scram-sha-512', '--url', url, '--sasl-mechanism', 'scram-sha-256'], {env})
    expect(wrong.code).toBe(3)
    expect(wrong.stderr).toMatch(/refused the login/)
    const plain = await runCli(['inspect', 'wt-kafka-sasl-scram-sha-512', '--url', url], {env})
    expect(plain.code).toBe(3)
    noSecret(flag, wrong, plain)
  }, 60_000)

  it('a saved context keeps the SCRAM user and mechanism: inspect and workers through it, listed redacted', async () => {
    const {user, password} = USERS[1]
    const home = isolatedHome()
    const topic = 'wt-kafka-sasl-context'
    const url = `kafka://${user}:${password}@127.0.0.1:${port}`
    const added = await runCli(['context', 'add', 'scram', url, '--sasl-mechanism', 'scram-sha-256', '--use'], {env: home})
    expect(added.code, added.stderr).toBe(0)
    const list = await runCli(['context', 'list', '--json'], {env: home})
    const listTable = await runCli(['context', 'list'], {env: home})
    expect(listTable.stdout).toContain(`kafka://${user}:***@127.0.0.1:${port}`)
    const made = await runCli(['enqueue', '--create', topic, 'hi'], {env: home})
    expect(made.code, made.stderr).toBe(0)
    const stats = await runCli(['inspect', topic, '--json', '--context', 'scram'], {env: home})
    expect(stats.code, stats.stderr).toBe(0)
    expect(JSON.parse(stats.stdout).queue.counts.waiting).toBe(1)
    const workers = await runCli(['workers', '--json'], {env: home})
    expect(workers.code, workers.stderr).toBe(0)
    expect(JSON.parse(workers.stdout).broker).toBe(`kafka://${user}:***@127.0.0.1:${port}`)
    // the saved mechanism is the one used: a plain login of this SCRAM user would be refused
    const overridden = await runCli(['inspect', topic, '--sasl-mechanism', 'plain'], {env: home})
    expect(overridden.code).toBe(3)
    noSecret(added, list, listTable, made, stats, workers, overridden)
  }, 60_000)
})
