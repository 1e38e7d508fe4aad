// Plain-list ids name exactly one message: equal payloads (enqueued by queuectl or LPUSHed by
// another producer) are told apart by their order — hash, hash.2, hash.3 — where the id was the
// bare content hash for all of them and `retry --id` moved every one.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {DB, REDIS_HOST} from './targets.js'

const env = isolatedHome()
// the list suites' db (unique names: nothing here needs a db of its own)
const url = `redis://${REDIS_HOST}/${DB.list}`
const tag = `ids-${process.pid}-${Date.now().toString(36)}`
const q = (args: string[]) => runCli([...args, '--url', url], {env, timeoutMs: 60_000})

interface Peeked {
  id: string
  payload: string
  state: string
}
async function peek(queue: string, state = 'waiting'): Promise<Peeked[]> {
  const r = await q(['inspect', queue, '--peek', '20', '--state', state, '--json'])
  expect(r.code, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as {messages: Peeked[]}).messages
}

describe('plain-list message ids', {timeout: 120_000}, () => {
  let raw: Redis
  beforeAll(() => {
    raw = new Redis(url)
  })
  afterAll(async () => {
    for (const name of [`${tag}-a`, `${tag}-b`]) {
      await raw.del(name, `{${name}}:processing`, `{${name}}:leases`, `{${name}}:dead`)
      await raw.srem('queuectl:lists', name)
    }
    raw.disconnect()
  })

  it('three equal payloads enqueued by queuectl (in two batches) get three ids, the ones peek shows; still stored raw', async () => {
    const sent = await q(['enqueue', `list:${tag}-a`, '{"same":true}', '--count', '3', '--batch-size', '2'])
    expect(sent.code, sent.stderr).toBe(0)
    const ids = sent.stdout.trim().split('\n')
    expect(new Set(ids).size).toBe(3)
    expect(ids.slice(1)).toEqual([`${ids[0]}.2`, `${ids[0]}.3`])
    expect((await peek(`list:${tag}-a`)).map((m) => m.id)).toEqual(ids)
    expect(await raw.lrange(`${tag}-a`, 0, -1)).toEqual(Array(3).fill('{"same":true}'))
  })

  it('three equal items LPUSHed by another producer get three ids', async () => {
    await raw.lpush(`${tag}-b`, 'job', 'other', 'job', 'job')
    const ids = (await peek(`list:${tag}-b`)).map((m) => m.id)
    expect(new Set(ids).size).toBe(4)
    expect(ids[2]).toBe(`${ids[0]}.2`)
    expect(ids[3]).toBe(`${ids[0]}.3`)
  })

  it('dead-lettered equal payloads keep distinct ids, and retry --id moves exactly one of them', async () => {
    const worked = await q(['work', `list:${tag}-a`, '--echo', '--fail-rate', '1', '--max-attempts', '1', '--until-empty', '--json'])
    expect(worked.code, worked.stderr).toBe(0)
    const dead = await peek(`list:${tag}-a`, 'dead')
    expect(dead).toHaveLength(3)
    const ids = dead.map((m) => m.id)
    expect(new Set(ids).size).toBe(3)
    const retried = await q(['retry', `list:${tag}-a`, '--id', ids[1]!, '--json'])
    expect(retried.code, retried.stderr).toBe(0)
    expect(JSON.parse(retried.stdout)).toMatchObject({retried: 1})
    expect(await peek(`list:${tag}-a`, 'dead')).toHaveLength(2)
    expect(await peek(`list:${tag}-a`)).toHaveLength(1)
  })
})
