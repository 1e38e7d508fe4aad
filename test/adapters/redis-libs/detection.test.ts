// Detection must not be fooled or broken by keys that merely look like a library's registry:
// a `queues` set that is not Sidekiq's, an `asynq:queues` of the wrong type, a kombu binding with
// its control (pidbox) queues. The listing still works and shows only real queues.
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {LIB_DB, REDIS_HOST, openLib} from './helpers.js'

const DB = LIB_DB.rq // the RQ tests here never touch these keys
const tag = `det${process.pid}${Date.now().toString(36)}`

describe('job-library detection on an unrelated keyspace', {timeout: 120_000}, () => {
  let raw: Redis
  let broker: Broker
  beforeAll(async () => {
    const [host, port] = REDIS_HOST.split(':') as [string, string]
    raw = new Redis({host, port: Number(port), db: DB})
    broker = await openLib(DB)
  })
  afterAll(async () => {
    await broker?.close()
    await raw.del('queues', 'asynq:queues', `_kombu.binding.${tag}.pidbox`, `_kombu.binding.${tag}`, `${tag}-celery`)
    raw.disconnect()
  })

  it('a `queues` set without Sidekiq’s keys is not Sidekiq; a wrong-type registry does not break the listing', async () => {
    await raw.sadd('queues', `not-sidekiq-${tag}`)
    await raw.set('asynq:queues', 'a string, not a set')
    await raw.sadd(`_kombu.binding.${tag}.pidbox`, `${SEP}${SEP}worker@host.${tag}.pidbox`)
    await raw.sadd(`_kombu.binding.${tag}`, `${tag}-celery${SEP}${SEP}${tag}-celery`)
    const names = (await broker.listQueues()).map((q) => q.name)
    expect(names).toContain(`celery:${tag}-celery`)
    expect(names.filter((n) => n.includes(tag))).toEqual([`celery:${tag}-celery`])
    expect((await broker.stats(`celery:${tag}-celery`)).counts).toEqual({waiting: 0, inflight: 0})
    await expect(broker.stats(`sidekiq:not-sidekiq-${tag}`)).rejects.toMatchObject({exitCode: 4})
    await expect(broker.stats(`asynq:${tag}`)).rejects.toMatchObject({exitCode: 4})
    // a bare name still resolves through every flavor's probe
    await expect(broker.stats(`no-such-${tag}`)).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/not found/)})
  })

  it('a bare name of a Celery queue is the Celery queue, not ambiguous with the list under the same key', async () => {
    await raw.sadd(`_kombu.binding.${tag}`, `${tag}-celery${SEP}${SEP}${tag}-celery`)
    await raw.lpush(`${tag}-celery`, JSON.stringify({body: 'W1tdLHt9LHt9XQ==', 'content-type': 'application/json', 'content-encoding': 'utf-8', headers: {task: 't.add', id: 'x1'}, properties: {body_encoding: 'base64', delivery_tag: 'd1'}}))
    const stats = await broker.stats(`${tag}-celery`)
    expect(stats.kind).toBe('celery')
    expect(stats.counts.waiting).toBe(1)
  })
})

const SEP = '\x06\x16'
