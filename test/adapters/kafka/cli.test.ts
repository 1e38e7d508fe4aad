// kafka:// through the binary against the real broker, checked with Kafka's own tools: records
// written by ProducerPerformance, a group part-way through (the console consumer), `queue inspect`
// equal to `kafka-consumer-groups --describe`; bad input; `queue work` across a kill -9.
// Needs `npm run build` first (it spawns bin/run.js).
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {completedSeqs, killChildren, ledger, numbered, startCli, until} from '../../reliability/harness.js'
import {BOOTSTRAP, KAFKA_URL, createTopic, deleteTopic, ensureKafka, kafkaTool, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const env = isolatedHome()
const made: string[] = []
const q = (args: string[], input?: string) => runCli([...args, '--url', KAFKA_URL], {env, input, timeoutMs: 120_000})

async function topic(hint: string, partitions = 1, extra: string[] = []): Promise<string> {
  const t = await createTopic(uniqueTopic(hint), partitions, extra)
  made.push(t, `${t}-dlt`)
  return t
}

/** `kafka-consumer-groups --describe`: LAG summed, and the consumers (CONSUMER-ID other than "-"). */
async function describeGroup(group: string): Promise<{lag: number; rows: number}> {
  const out = await kafkaTool('consumer-groups', ['--bootstrap-server', BOOTSTRAP, '--describe', '--group', group])
  const rows = out.split('\n').filter((l) => l.startsWith(group + ' '))
  const lag = rows.reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[5]), 0)
  return {lag, rows: rows.length}
}

afterAll(async () => {
  killChildren()
  for (const t of made) await deleteTopic(t)
}, 120_000)

describe.skipIf(Boolean(missing))(`kafka:// against Kafka's own tools${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('counts equal kafka-consumer-groups --describe for a group part-way through records from ProducerPerformance', async () => {
    const t = await topic('truth', 3)
    const group = `${t}-g`
    await kafkaTool('producer-perf', ['--topic', t, '--num-records', '3000', '--record-size', '64', '--throughput', '-1', '--producer-props', `bootstrap.servers=${BOOTSTRAP}`])
    // the console consumer reads a part and commits where it stopped
    await kafkaTool('console-consumer', ['--bootstrap-server', BOOTSTRAP, '--topic', t, '--group', group, '--from-beginning', '--max-messages', '700', '--consumer-property', 'max.poll.records=50'])
    const truth = await describeGroup(group)
    expect(truth.rows).toBe(3)
    expect(truth.lag).toBeGreaterThan(0)
    expect(truth.lag).toBeLessThan(3000)

    const r = await q(['inspect', `${t}/${group}`, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const stats = JSON.parse(r.stdout).queue
    expect(stats.counts.waiting).toBe(truth.lag)
    expect(stats.counts.inflight).toBeUndefined()
    expect(stats.consumers).toBe(0)
    expect(stats.oldestAgeMs).toBeGreaterThanOrEqual(0)

    // the same through ?group=, and a bare topic with no group: every retained record, said so
    const viaQuery = JSON.parse((await q(['inspect', `${t}?group=${group}`, '--json'])).stdout).queue
    expect(viaQuery.counts.waiting).toBe(truth.lag)
    const bare = JSON.parse((await q(['inspect', t, '--json'])).stdout).queue
    expect(bare.counts.waiting).toBe(3000)
    expect(bare.details.note).toMatch(/committed nothing/)

    // --peek reads from the committed offsets without moving them
    const peek = await q(['inspect', `${t}/${group}`, '--peek', '5', '--json'])
    expect(JSON.parse(peek.stdout).messages).toHaveLength(5)
    expect((await describeGroup(group)).lag).toBe(truth.lag)
  }, 180_000)

  it('queue work loses nothing across a kill -9: uncommitted records come again to the next worker', async () => {
    const t = await topic('crash', 2)
    const queue = `${t}/${t}-workers`
    const N = 300
    const enq = await q(['enqueue', queue], numbered(0, N))
    expect(enq.code, enq.stderr).toBe(0)
    const a = startCli(['work', queue, '--url', KAFKA_URL, '--echo', '--json', '--delay-ms', '40', '--concurrency', '8'], env)
    await until(() => completedSeqs(a.stdout()).length >= 40, 'worker A to complete 40 jobs', 90_000)
    a.child.kill('SIGKILL')
    expect((await a.exited).signal).toBe('SIGKILL')
    const fromA = completedSeqs(a.stdout())
    const b = await runCli(['work', queue, '--url', KAFKA_URL, '--echo', '--json', '--concurrency', '16', '--until-empty'], {env, timeoutMs: 150_000})
    expect(b.code, b.stderr).toBe(0)
    const book = ledger(N, [...fromA, ...completedSeqs(b.stdout)])
    expect(book.lost).toEqual([])
    expect(book.unique).toBe(N)
    expect((await describeGroup(`${t}-workers`)).lag).toBe(0)
  }, 240_000)

  it('bad input: broker down → exit 3 with a hint; unknown topic → exit 4 with near names; a record over max.message.bytes → exit 2, nothing sent', async () => {
    const down = await runCli(['inspect', 'x', '--url', 'kafka://127.0.0.1:1', '--timeout', '3s'], {env})
    expect(down.code).toBe(3)
    expect(down.stderr).toMatch(/cannot reach kafka:\/\/127\.0\.0\.1:1.*scripts\/kafka\.sh start/)

    const t = await topic('small', 1, ['--config', 'max.message.bytes=2000'])
    const unknown = await q(['inspect', `${t}x`])
    expect(unknown.code).toBe(4)
    expect(unknown.stderr).toContain(`did you mean: ${t}`)

    const big = await q(['enqueue', t, 'x'.repeat(5000)])
    expect(big.code, big.stderr).toBe(2)
    expect(big.stderr).toMatch(/limit of 1488 — nothing was sent/)
    const after = JSON.parse((await q(['inspect', t, '--json'])).stdout).queue
    expect(after.counts.waiting).toBe(0)
  }, 120_000)

  it('refuses delay, priority and dedup ids with advice; a password never shows', async () => {
    const t = await topic('refuse')
    const delay = await q(['enqueue', t, 'x', '--delay', '5s'])
    expect(delay.code).toBe(4)
    expect(delay.stderr).toMatch(/no delayed records/)
    const prio = await q(['enqueue', t, 'x', '--priority', '3'])
    expect(prio.code).toBe(4)
    const pw = await runCli(['inspect', t, '--url', 'kafka://u:s3cret-pw@127.0.0.1:1', '--timeout', '2s'], {env})
    expect(pw.code).toBe(3)
    expect(pw.stderr + pw.stdout).not.toContain('s3cret-pw')
  }, 60_000)
})
