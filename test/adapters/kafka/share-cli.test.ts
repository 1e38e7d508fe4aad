// share:TOPIC/GROUP through the binary against the real broker, checked with Kafka's own tools:
// `queue inspect` equal to `kafka-share-groups --describe` for a group that Kafka's own
// KafkaShareConsumer (ShareStates.java) left with accepted, released, rejected and acquired
// records; `queue work` on a share group across a kill -9. Needs `npm run build` first.
import {execFileSync, spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {completedSeqs, killChildren, ledger, numbered, startCli, until} from '../../reliability/harness.js'
import {BOOTSTRAP, KAFKA_URL, SCRIPT, createTopic, deleteTopic, ensureKafka, kafkaTool, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const env = isolatedHome()
const made: string[] = []
const q = (args: string[], input?: string) => runCli([...args, '--url', KAFKA_URL], {env, input, timeoutMs: 120_000})
let classes = ''

/** `kafka-share-groups --describe`: LAG summed over the partitions (undefined where it prints '-'). */
async function describeShare(group: string): Promise<number | undefined> {
  const out = await kafkaTool('share-groups', ['--bootstrap-server', BOOTSTRAP, '--describe', '--group', group])
  const lags = out
    .split('\n')
    .filter((l) => l.startsWith(group + ' '))
    .map((l) => l.trim().split(/\s+/)[4]!)
  return lags.includes('-') ? undefined : lags.reduce((sum, l) => sum + Number(l), 0)
}

async function shareTopic(hint: string, partitions: number): Promise<{topic: string; group: string; queue: string}> {
  const topic = await createTopic(uniqueTopic(`share-${hint}`), partitions)
  made.push(topic)
  return {topic, group: `${topic}-g`, queue: `share:${topic}/${topic}-g`}
}

afterAll(async () => {
  killChildren()
  if (classes) rmSync(classes, {recursive: true, force: true})
  for (const t of made) await deleteTopic(t)
}, 120_000)

describe.skipIf(Boolean(missing))(`share groups through the binary${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('queue inspect equals kafka-share-groups --describe for records KafkaShareConsumer accepted, released, rejected and holds', async () => {
    const {topic, group, queue} = await shareTopic('truth', 2)
    const classpath = execFileSync('bash', [SCRIPT, 'classpath'], {encoding: 'utf8', timeout: 300_000}).trim()
    classes = mkdtempSync(join(tmpdir(), 'wt-share-java-'))
    execFileSync('javac', ['-d', classes, '-cp', classpath, join(import.meta.dirname, 'ShareStates.java')], {timeout: 120_000})
    const java = spawn('java', ['-Xmx256m', '-cp', `${classes}:${classpath}`, 'ShareStates', BOOTSTRAP, topic, group], {stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    java.stdout.on('data', (d: Buffer) => (out += String(d)))
    try {
      await until(() => /READY pending=\d+/.test(out), 'ShareStates to hold its records', 60_000)
      const pending = Number(/READY pending=(\d+)/.exec(out)![1])
      const truth = await describeShare(group)
      expect(truth).toBe(pending)
      const r = await q(['inspect', queue, '--json'])
      expect(r.code, r.stderr).toBe(0)
      const stats = JSON.parse(r.stdout).queue
      expect(stats.counts.waiting).toBe(truth)
      expect(stats.counts.inflight).toBeUndefined()
      expect(stats.consumers).toBe(1)
    } finally {
      java.stdin.end()
      java.kill('SIGKILL')
    }
  }, 180_000)

  it('queue work on a share group loses nothing across a kill -9: what the killed worker held comes back', async () => {
    const {topic, group, queue} = await shareTopic('crash', 2)
    // start at the beginning (a new share group starts at the end), and a 15 s acquisition lock
    await kafkaTool('share-groups', ['--bootstrap-server', BOOTSTRAP, '--reset-offsets', '--to-earliest', '--execute', '--group', group, '--topic', topic])
    await kafkaTool('org.apache.kafka.tools.ConfigCommand', [
      '--bootstrap-server',
      BOOTSTRAP,
      '--entity-type',
      'groups',
      '--entity-name',
      group,
      '--alter',
      '--add-config',
      'share.record.lock.duration.ms=15000',
    ])
    const N = 300
    const enq = await q(['enqueue', topic], numbered(0, N))
    expect(enq.code, enq.stderr).toBe(0)
    const a = startCli(['work', queue, '--url', KAFKA_URL, '--echo', '--json', '--delay-ms', '40', '--concurrency', '8'], env)
    await until(() => completedSeqs(a.stdout()).length >= 40, 'worker A to complete 40 jobs', 90_000)
    a.child.kill('SIGKILL')
    expect((await a.exited).signal).toBe('SIGKILL')
    const fromA = completedSeqs(a.stdout())
    const b = startCli(['work', queue, '--url', KAFKA_URL, '--echo', '--json', '--concurrency', '16'], env)
    // what A held is released when its lock runs out, then B takes it
    await until(() => ledger(N, [...fromA, ...completedSeqs(b.stdout())]).lost.length === 0, 'worker B to complete the rest', 120_000)
    await until(async () => (await describeShare(group)) === 0, 'kafka-share-groups to show no lag', 60_000)
    b.child.kill('SIGTERM')
    await b.exited
    const book = ledger(N, [...fromA, ...completedSeqs(b.stdout())])
    expect(book.lost).toEqual([])
    expect(book.unique).toBe(N)
  }, 300_000)
})
