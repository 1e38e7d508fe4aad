// Bulk actions on a --where, and one job by id, through the built bin on jobs the real bullmq made:
// a dry run counts and samples without changing anything; retry/purge/export act on exactly the
// matches and the audit log records the expression and the count; job show/delete/promote.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Queue} from 'bullmq'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {FIND_REDIS, dropBullQueue, findUrl, makeBullJobs, type Made} from './bullmq-jobs.js'

const env = isolatedHome()
const NAME = `wt-find-act-${process.pid}-${Date.now().toString(36)}`
const Q = `bullmq:${NAME}`
const cli = (args: string[]) => runCli([...args, '--url', findUrl], {env, timeoutMs: 60_000})
const audit = () => readFileSync(join(env.XDG_STATE_HOME!, 'queuectl', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as {command: string; counts: Record<string, number>; details: Record<string, unknown>})

describe('bulk actions on --where and one job by id (BullMQ)', {timeout: 180_000}, () => {
  let made: Made
  let queue: Queue
  let redis: Redis
  const stateOf = async (id: string) => (await queue.getJobState(id)) as string
  beforeAll(async () => {
    made = await makeBullJobs(NAME)
    redis = new Redis({...FIND_REDIS, maxRetriesPerRequest: null})
    queue = new Queue(NAME, {connection: redis})
  }, 60_000)
  afterAll(async () => {
    await queue?.close()
    redis?.disconnect()
    await dropBullQueue(NAME)
  })

  it('retry --where --dry-run counts and samples, then retries exactly the matching failed job, audited', async () => {
    const dry = await cli(['retry', Q, '--where', 'body.tenant == 42', '--dry-run'])
    expect(dry.code).toBe(0)
    expect(dry.stdout).toMatch(/would retry 1 dead job of .* matching body.tenant == 42/)
    expect(dry.stdout).toContain(`  ${made.ids.f42}  boom`)
    expect(await stateOf(made.ids.f42)).toBe('failed')
    const r = await cli(['retry', Q, '--where', 'body.tenant == 42', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({retried: 1})
    expect(await stateOf(made.ids.f42)).toMatch(/^(waiting|wait)$/)
    expect(await stateOf(made.ids.f7)).toBe('failed')
    expect(audit().at(-1)).toMatchObject({command: 'retry', counts: {retried: 1}, details: {where: 'body.tenant == 42', matched: 1}})
  })

  it('purge --where deletes exactly the matching completed job (the library removes it), audited', async () => {
    const r = await cli(['purge', Q, '--state', 'completed', '--where', 'name == "sms"', '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({matched: 1, removed: 1})
    expect(await queue.getJob(made.ids.c7)).toBeUndefined()
    expect(await stateOf(made.ids.c42)).toBe('completed')
    expect(audit().at(-1)).toMatchObject({command: 'purge', counts: {removed: 1, matched: 1}, details: {state: 'completed', where: 'name == "sms"'}})
    const none = await cli(['purge', Q, '--state', 'completed', '--where', 'name == "nope"', '--yes'])
    expect(none.code).toBe(0)
    expect(none.stdout).toMatch(/nothing removed/)
  })

  it('export --where writes only the matches', async () => {
    const r = await cli(['export', Q, '--state', 'delayed', '--where', 'body.tenant == 42'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as {id: string})
    expect(lines.map((l) => l.id)).toEqual([made.ids.d42])
  })

  it('job show prints the whole envelope with the library fields; job promote runs a delayed job now; job delete deletes one', async () => {
    const shown = await cli(['job', 'show', Q, made.ids.f7, '--json'])
    expect(shown.code).toBe(0)
    const job = JSON.parse(shown.stdout) as {state: string; lastError: string; raw: {stacktrace: string; failedReason: string}}
    expect(job).toMatchObject({state: 'dead', lastError: 'boom timeout 7'})
    expect(job.raw.stacktrace).toContain('boom timeout 7')
    const missing = await cli(['job', 'show', Q, 'no-such-id'])
    expect(missing.code).toBe(4)
    expect(missing.stderr).toMatch(/no job "no-such-id"/)

    const promoted = await cli(['job', 'promote', Q, made.ids.d42])
    expect(promoted.code).toBe(0)
    expect(await stateOf(made.ids.d42)).toMatch(/^(waiting|wait)$/)
    const notDelayed = await cli(['job', 'promote', Q, made.ids.f7])
    expect(notDelayed.code).toBe(4)

    const deleted = await cli(['job', 'delete', Q, made.ids.f7, '--yes'])
    expect(deleted.code).toBe(0)
    expect(await queue.getJob(made.ids.f7)).toBeUndefined()
    expect(audit().at(-1)).toMatchObject({command: 'job delete', counts: {removed: 1}, details: {id: made.ids.f7, state: 'dead'}})
    const asks = await cli(['job', 'delete', Q, made.ids.w7])
    expect(asks.code).toBe(2)
    expect(await stateOf(made.ids.w7)).toMatch(/^(waiting|wait)$/)
  })
})
