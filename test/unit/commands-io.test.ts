// Commands run in this process with injected streams (BaseCommand.runWith, after the GitHub CLI's
// Options with injected I/O): their output, errors and exit codes, without spawning the binary.
// The brokers are real: the embedded one (memory://NAME lives in this process) and Redis.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {Readable, Writable} from 'node:stream'
import {Config} from '@oclif/core'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {CommandIO} from '../../src/cli/base-command.js'
import Enqueue from '../../src/commands/enqueue.js'
import Inspect from '../../src/commands/inspect.js'
import Purge from '../../src/commands/purge.js'
import Work from '../../src/commands/work.js'
import {openBroker} from '../../src/adapters/registry.js'

class Capture extends Writable {
  text = ''
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString()
    done()
  }
}

function io(stdin = ''): CommandIO & {out: Capture; err: Capture} {
  return {in: Readable.from([stdin]), out: new Capture(), err: new Capture()}
}

let config: Config
const tag = `wt-split-io-${process.pid}`
const MEM = `memory://${tag}`
const REDIS = 'redis://127.0.0.1:6379'
const AMQP = 'amqp://guest:guest@127.0.0.1:5672'

beforeAll(async () => {
  config = await Config.load(new URL('../..', import.meta.url).pathname)
  // contexts and the audit log of a throw-away home, never the user's
  process.env.XDG_CONFIG_HOME = `/tmp/${tag}-config`
  process.env.XDG_STATE_HOME = `/tmp/${tag}-state`
})

describe('enqueue through injected streams', () => {
  it('prints the ids on the injected stdout and the in-process warning on the injected stderr', async () => {
    const streams = io()
    const run = await Enqueue.runWith(['emails', '{"to":"ada"}', '--count', '3', '--url', MEM, '--create'], {io: streams, config})
    expect(run.exitCode).toBe(0)
    expect(streams.out.text.trim().split('\n')).toHaveLength(3)
    expect(streams.err.text).toMatch(/^warning: memory:\/\/.* is in-process: the 3 messages live only in this process/)
  })

  it('reads NDJSON from the injected stdin; --json prints one object a line', async () => {
    const streams = io('{"n":1}\n{"n":2}\n')
    const run = await Enqueue.runWith(['lines', '--url', MEM, '--create', '--json'], {io: streams, config})
    expect(run.exitCode).toBe(0)
    const lines = streams.out.text.trim().split('\n').map((l) => JSON.parse(l) as {id: string; queue: string; inProcess?: boolean})
    expect(lines.map((l) => [l.queue, l.inProcess])).toEqual([['lines', true], ['lines', true]])
  })

  it('a missing queue is exit 4 with one line on the injected stderr, and nothing on stdout', async () => {
    const streams = io()
    const run = await Enqueue.runWith([`${tag}-nowhere`, 'x', '--url', AMQP], {io: streams, config})
    expect(run.exitCode).toBe(4)
    expect(streams.out.text).toBe('')
    expect(streams.err.text.trim().split('\n')).toHaveLength(1)
    expect(streams.err.text).toMatch(/^Error: queue ".*-nowhere" not found on amqp:\/\/guest:\*\*\*@.*give --create to make it/)
    // a typo leaves nothing behind
    expect((await Inspect.runWith([`${tag}-nowhere`, '--url', AMQP], {io: io(), config})).exitCode).toBe(4)
  })
})

describe('inspect through injected streams', () => {
  it('shows the messages enqueued before, as a table on stdout', async () => {
    await Enqueue.runWith(['orders', 'a', '--count', '2', '--url', MEM, '--create'], {io: io(), config})
    const streams = io()
    const run = await Inspect.runWith(['orders', '--url', MEM], {io: streams, config})
    expect(run.exitCode).toBe(0)
    expect(streams.out.text).toMatch(/waiting\D+2/)
  })

  it('--json is one document on the injected stdout; a crossed threshold is exit 1', async () => {
    const streams = io()
    const run = await Inspect.runWith(['orders', '--url', MEM, '--json', '--max-depth', '1'], {io: streams, config})
    expect(run.exitCode).toBe(1)
    const doc = JSON.parse(streams.out.text) as {queue: {counts: {waiting: number}}; error: {exitCode: number}}
    expect(doc.queue.counts.waiting).toBe(2)
    expect(doc.error.exitCode).toBe(1)
    // with a partial result, the line goes to stderr too, for whoever watches
    expect(streams.err.text).toBe('check failed: orders: depth 2 is over --max-depth 1\n')
  })

  it('a bad flag is exit 2 with the suggestion, written to the injected stderr', async () => {
    const streams = io()
    const run = await Inspect.runWith(['orders', '--url', MEM, '--peak', '3'], {io: streams, config})
    expect(run.exitCode).toBe(2)
    expect(streams.err.text).toMatch(/--peak.*did you mean --peek/)
  })
})

describe('purge through injected streams', () => {
  let broker: Awaited<ReturnType<typeof openBroker>>
  const queue = `list:${tag}-purge`
  beforeAll(async () => {
    broker = await openBroker(REDIS, {timeoutMs: 5000})
    await broker.enqueue(queue, [{payload: 'a'}, {payload: 'b'}])
  })
  afterAll(async () => {
    await broker.deleteQueue(queue).catch(() => {})
    await broker.close()
  })

  it('refuses without --yes when the injected stdin is no terminal, and removes nothing', async () => {
    const streams = io()
    const run = await Purge.runWith([queue, '--url', REDIS], {io: streams, config})
    expect(run.exitCode).toBe(2)
    expect(streams.err.text).toMatch(/not a terminal — nothing was changed; add --yes/)
    expect((await broker.stats(queue)).counts.waiting).toBe(2)
  })

  it('--dry-run says what it would remove; --yes removes it', async () => {
    const dry = io()
    expect((await Purge.runWith([queue, '--url', REDIS, '--dry-run'], {io: dry, config})).exitCode).toBe(0)
    expect(dry.out.text).toMatch(/^would remove 2 waiting messages/)
    const streams = io()
    expect((await Purge.runWith([queue, '--url', REDIS, '--yes'], {io: streams, config})).exitCode).toBe(0)
    expect(streams.out.text).toMatch(/^removed 2 waiting messages/)
    expect((await broker.stats(queue)).counts.waiting ?? 0).toBe(0)
  })
})

describe('work through injected streams', () => {
  it('--echo prints each message and the summary on the injected stdout', async () => {
    await Enqueue.runWith(['jobs', '{"n":1}', '--count', '3', '--url', MEM, '--create'], {io: io(), config})
    const streams = io()
    const run = await Work.runWith(['jobs', '--url', MEM, '--echo', '--until-empty'], {io: streams, config})
    expect(run.exitCode).toBe(0)
    expect(streams.out.text.match(/attempt 1 {2}\{"n":1\}/g)).toHaveLength(3)
    expect(streams.out.text).toMatch(/3 completed/)
  })

  it('--until-empty on an empty queue stops after a short idle wait (50 ms, not 250)', async () => {
    await Enqueue.runWith(['idle-empty', 'x', '--url', MEM, '--create'], {io: io(), config})
    await Work.runWith(['idle-empty', '--url', MEM, '--echo', '--max-jobs', '1'], {io: io(), config})
    const streams = io()
    const run = await Work.runWith(['idle-empty', '--url', MEM, '--echo', '--json', '--until-empty'], {io: streams, config})
    expect(run.exitCode).toBe(0)
    const summary = JSON.parse(streams.out.text.trim().split('\n').at(-1)!) as {reason: string; elapsedMs: number}
    expect(summary.reason).toBe('empty')
    expect(summary.elapsedMs).toBeLessThan(200)
  })

  it('--json streams NDJSON events ending with the summary', async () => {
    await Enqueue.runWith(['events', 'x', '--url', MEM, '--create'], {io: io(), config})
    const streams = io()
    const run = await Work.runWith(['events', '--url', MEM, '--echo', '--json', '--max-jobs', '1'], {io: streams, config})
    expect(run.exitCode).toBe(0)
    const events = streams.out.text.trim().split('\n').map((l) => JSON.parse(l) as {event: string; completed?: number; reason?: string})
    expect(events.map((e) => e.event).filter((e) => e !== 'started' && e !== 'drained')).toEqual(['completed', 'summary'])
    expect(events.at(-1)).toMatchObject({completed: 1, reason: 'max-jobs'})
  })

  it('a message out of attempts on a queue without a dead-letter route stops the worker: exit 1, named', async () => {
    await Enqueue.runWith(['flaky', 'x', '--url', `${MEM}?maxAttempts=100`, '--create'], {io: io(), config})
    const streams = io()
    const run = await Work.runWith(['flaky', '--url', MEM, '--exec', 'exit 1', '--max-attempts', '1', '--on-exhausted', 'stop'], {io: streams, config})
    expect(run.exitCode).toBe(1)
    expect(streams.err.text).toMatch(/stopped: message \S+ failed 1 time/)
  })

  it('no handler chosen is a usage error (exit 2) before anything is opened', async () => {
    const streams = io()
    const run = await Work.runWith(['jobs', '--url', MEM], {io: streams, config})
    expect(run.exitCode).toBe(2)
    expect(streams.err.text).toMatch(/choose what runs each job/)
  })
})

describe('runF: the parsed options instead of the work', () => {
  it('work gets its defaults and the flags given; nothing is opened', async () => {
    let seen: {flags: Record<string, unknown>; args: Record<string, unknown>} | undefined
    const run = await Work.runWith(['emails', '--echo', '-c', '4', '--url', 'redis://127.0.0.1:1'], {io: io(), config, runF: (o) => (seen = o)})
    expect(run.exitCode).toBe(0)
    expect(seen?.args).toEqual({queue: 'emails'})
    expect(seen?.flags).toMatchObject({echo: true, concurrency: 4, 'max-attempts': 3, ack: 'late', grace: '30s'})
  })

  it('exclusive flags are refused before runF: exit 2 on the injected stderr', async () => {
    const streams = io()
    const run = await Work.runWith(['emails', '--echo', '--exec', 'true'], {io: streams, config, runF: () => expect.unreachable()})
    expect(run.exitCode).toBe(2)
    expect(streams.err.text).toMatch(/--exec.*cannot also be provided when using --echo|--echo.*cannot also be provided when using --exec/)
  })
})

describe('no command writes around its streams', () => {
  it('src/commands/ never writes to process.stdout or process.stderr (but top\'s live screen, drawn on the terminal)', () => {
    const dir = new URL('../../src/commands/', import.meta.url).pathname
    const files = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? files(join(d, n)) : [join(d, n)]))
    const hits = files(dir).flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line, i) => ({where: `${file.slice(dir.length)}:${i + 1}`, line}))
        .filter(({line}) => /process\.std(out|err)\.write/.test(line)),
    )
    expect(hits.map((h) => h.where).every((where) => where.startsWith('top.ts:'))).toBe(true)
    expect(hits.length).toBeLessThanOrEqual(2)
  })
})
