// `queue find` through the built bin on jobs the real bullmq made: exactly the matches, across
// states or in the ones asked, NDJSON or a table, --limit; a mistake in the expression is exit 2
// with its column; an AMQP queue (a peek that requeues) is refused unless the cost is accepted.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {FIND_REDIS, dropBullQueue, findUrl, makeBullJobs, type Made} from './bullmq-jobs.js'

const env = isolatedHome()
const NAME = `wt-find-find-${process.pid}-${Date.now().toString(36)}`
const Q = `bullmq:${NAME}`
const cli = (args: string[]) => runCli([...args, '--url', findUrl], {env, timeoutMs: 60_000})
const ids = (stdout: string) => stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as {id: string}).id).sort()

describe('queue find on BullMQ jobs', {timeout: 120_000}, () => {
  let made: Made
  beforeAll(async () => {
    made = await makeBullJobs(NAME)
  }, 60_000)
  afterAll(async () => dropBullQueue(NAME))

  it('finds exactly the matching jobs across every state, as NDJSON', async () => {
    const r = await cli(['find', Q, '--where', 'body.tenant == 42', '--json'])
    expect(r.code).toBe(0)
    expect(ids(r.stdout)).toEqual([made.ids.w42, made.ids.d42, made.ids.f42, made.ids.c42].sort())
    // the equality is pushed down to Redis: only the 4 matches are read
    expect(r.stderr).toMatch(/4 matching of 4 read/)
    const states = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as {state: string}).state).sort()
    expect(states).toEqual(['completed', 'dead', 'delayed', 'waiting'])
  })

  it('--state, lastError, names and --limit narrow it; --since leaves out older jobs', async () => {
    const failed = await cli(['find', Q, '--where', 'lastError.contains("timeout 7")', '--state', 'failed', '--json'])
    expect(ids(failed.stdout)).toEqual([made.ids.f7])
    const named = await cli(['find', Q, '--where', 'name == "email" && state != "completed"', '--json'])
    expect(ids(named.stdout)).toEqual([made.ids.w42, made.ids.w7, made.ids.d42].sort())
    const limited = await cli(['find', Q, '--limit', '2', '--json'])
    expect(ids(limited.stdout)).toHaveLength(2)
    expect(limited.stderr).toMatch(/stopped at --limit/)
    const none = await cli(['find', Q, '--since', '1ms', '--json'])
    expect(none.stdout).toBe('')
  })

  it('prints a table, one row per match as it is found', async () => {
    const r = await cli(['find', Q, '--where', 'body.to.endsWith("@example.com")'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^queue\s+state\s+id\s+name/)
    expect(lines).toHaveLength(2)
    expect(lines[1]).toContain('a@example.com')
  })

  it('refuses a mistake with its column (exit 2), a state the queue lacks and no queue (exit 4 / 2)', async () => {
    const bad = await cli(['find', Q, '--where', 'body.tenant = 42'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/Unexpected character: = at column 13/)
    const unknown = await cli(['find', Q, '--where', 'tenant == 42'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/Unknown variable: tenant at column 1.*fields: id/)
    const missing = await cli(['find', `bullmq:${NAME}-nope`, '--where', 'true'])
    expect(missing.code).toBe(4)
    const typo = await cli(['find', Q, '--wher', 'true'])
    expect(typo.code).toBe(2)
    expect(typo.stderr).toMatch(/Nonexistent flag --wher — did you mean --where/)
    const none = await cli(['find', '--where', 'true'])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/name the queues to search, or --all/)
  })
})

describe('queue find where reading costs deliveries', {timeout: 60_000}, () => {
  it('refuses an AMQP queue unless --accept-peek-cost', async () => {
    const amqp = 'amqp://guest:guest@127.0.0.1:5672/'
    const q = `wt-find-amqp-${process.pid}-${Date.now().toString(36)}`
    const sent = await runCli(['enqueue', q, '{"tenant":42}', '--create', '--url', amqp], {env})
    expect(sent.code).toBe(0)
    try {
      const refused = await runCli(['find', q, '--where', 'body.tenant == 42', '--url', amqp], {env})
      expect(refused.code).toBe(4)
      expect(refused.stderr).toMatch(/takes and requeues every message.*--accept-peek-cost/)
      const accepted = await runCli(['find', q, '--where', 'body.tenant == 42', '--accept-peek-cost', '--json', '--url', amqp], {env})
      expect(accepted.code).toBe(0)
      expect(accepted.stdout.trim().split('\n')).toHaveLength(1)
      expect(accepted.stderr).toMatch(/requeued/)
    } finally {
      const {connect} = await import('amqplib')
      const conn = await connect(amqp)
      const ch = await conn.createChannel()
      await ch.deleteQueue(q)
      await conn.close()
    }
  })
})

describe('the retired move --filter', {timeout: 60_000}, () => {
  it('still runs, rewritten to --where, with a note that shows the new form', async () => {
    const src = `wt-find-filter-src-${process.pid}-${Date.now().toString(36)}`
    const dst = `${src}-dst`
    const sent = await cli(['enqueue', `list:${src}`, '--name', 'email', '{"x":1}'])
    expect(sent.code).toBe(0)
    await cli(['enqueue', `list:${src}`, '--name', 'sms', '{"x":1}'])
    await cli(['enqueue', `list:${src}`, '--name', 'email', '{"y":1}'])
    try {
      const dry = await cli(['move', `list:${src}`, `list:${dst}`, '--where', 'name == "email"', '--create', '--dry-run'])
      expect(dry.code).toBe(0)
      expect(dry.stdout).toMatch(/would move 2 waiting jobs of .* matching name == "email"/)
      expect(dry.stdout).toContain('{"y":1}')
      const r = await cli(['move', `list:${src}`, `list:${dst}`, '--filter', 'name=="email" and payload~"x"', '--create', '--yes', '--idle', '1s', '--json'])
      expect(r.code).toBe(0)
      expect(r.stderr).toContain(`note: --filter is retired; this ran as --where 'name=="email" && payload.contains("x")'`)
      expect(JSON.parse(r.stdout)).toMatchObject({moved: 1})
      const bad = await cli(['move', `list:${src}`, `list:${dst}`, '--filter', 'colour=="red"', '--yes'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/--filter \(retired: use --where\) "colour=="red"": Unknown variable: colour/)
    } finally {
      const {Redis} = await import('ioredis')
      const redis = new Redis(FIND_REDIS)
      await redis.del(src, dst)
      redis.disconnect()
    }
  })
})
