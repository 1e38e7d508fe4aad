// queue create / queue delete through the built CLI, each checked against the broker's own API:
// RabbitMQ's management API, SQS GetQueueAttributes, JetStream's stream and consumer info,
// pg-boss's getQueue, Redis keys. Delete removes the queue and leaves its neighbours whole.
import {GetQueueAttributesCommand, GetQueueUrlCommand} from '@aws-sdk/client-sqs'
import {Redis} from 'ioredis'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'
import {AMQP_URL, MGMT_AUTH, MGMT_URL, dropQueue} from '../adapters/amqp/helpers.js'
import {REGION, adminClient, emulatorUrl} from '../adapters/sqs/helpers.js'
import {NATS_URL, admin as natsAdmin, dropStream} from '../adapters/nats/helpers.js'
import {freshDatabase, installPgboss} from '../adapters/postgres/helpers.js'

const home = isolatedHome()
const tag = `wt-life-${process.pid}-${Date.now().toString(36)}`
const REDIS = 'redis://127.0.0.1:6379'
const cli = (args: string[]) => runCli(args, {env: home, input: ''})

async function mgmtQueue(name: string): Promise<{durable: boolean; type: string; arguments: Record<string, unknown>}> {
  const res = await fetch(`${MGMT_URL}/api/queues/%2F/${encodeURIComponent(name)}`, {headers: {authorization: MGMT_AUTH}})
  expect(res.status).toBe(200)
  return (await res.json()) as {durable: boolean; type: string; arguments: Record<string, unknown>}
}

describe('queue create / delete on RabbitMQ', {timeout: 60_000}, () => {
  const q = `${tag}-orders`
  const dlq = `${tag}-orders.dlq`
  afterAll(async () => {
    await dropQueue(q).catch(() => {})
    await dropQueue(dlq).catch(() => {})
  })

  it('a quorum queue with its dead-letter queue, max length, TTL and delivery limit, as the management API shows it', async () => {
    const r = await cli(['create', q, '--url', AMQP_URL, '--type', 'quorum', '--dead-letter-queue', dlq, '--max-length', '100', '--message-ttl', '1h', '--delivery-limit', '5', '--json'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({queue: q, created: true})
    const info = await mgmtQueue(q)
    expect(info.type).toBe('quorum')
    expect(info.durable).toBe(true)
    expect(info.arguments).toMatchObject({'x-queue-type': 'quorum', 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq, 'x-max-length': 100, 'x-message-ttl': 3_600_000, 'x-delivery-limit': 5})
    expect((await mgmtQueue(dlq)).durable).toBe(true)
  })

  it('refuses a setting RabbitMQ has not, naming the ones it has (exit 2, nothing made)', async () => {
    const r = await cli(['create', `${tag}-nofifo`, '--url', AMQP_URL, '--fifo'])
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/--fifo is not a setting of amqp queues \(--fifo is for sqs\) — it takes --type/)
    const res = await fetch(`${MGMT_URL}/api/queues/%2F/${tag}-nofifo`, {headers: {authorization: MGMT_AUTH}})
    expect(res.status).toBe(404)
  })

  it('refuses --delivery-limit on a classic queue', async () => {
    const r = await cli(['create', `${tag}-classic`, '--url', AMQP_URL, '--delivery-limit', '3'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/needs a quorum queue/)
  })

  it('delete needs --yes off a terminal, then removes the queue and leaves the dead-letter queue', async () => {
    const refused = await cli(['delete', q, '--url', AMQP_URL])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/--yes/)
    expect((await mgmtQueue(q)).type).toBe('quorum')
    const r = await cli(['delete', q, '--url', AMQP_URL, '--yes'])
    expect(r.code).toBe(0)
    const gone = await fetch(`${MGMT_URL}/api/queues/%2F/${encodeURIComponent(q)}`, {headers: {authorization: MGMT_AUTH}})
    expect(gone.status).toBe(404)
    expect((await mgmtQueue(dlq)).durable).toBe(true)
    expect((await cli(['delete', q, '--url', AMQP_URL, '--yes'])).code).toBe(4)
  })
})

describe('queue create on SQS', {timeout: 60_000}, () => {
  const sqs = adminClient()
  afterAll(() => sqs.destroy())
  const env = {...home, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: REGION, AWS_EC2_METADATA_DISABLED: 'true'}

  it('FIFO, visibility timeout, retention and a redrive policy to a DLQ, as GetQueueAttributes shows them', async () => {
    const q = `${tag}-orders.fifo`
    const dlq = `${tag}-orders-dlq.fifo`
    const r = await runCli(['create', q, '--url', emulatorUrl(), '--fifo', '--visibility-timeout', '45s', '--retention', '2d', '--dead-letter-queue', dlq, '--max-receives', '3'], {env, input: ''})
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const url = (await sqs.send(new GetQueueUrlCommand({QueueName: q}))).QueueUrl!
    const a = (await sqs.send(new GetQueueAttributesCommand({QueueUrl: url, AttributeNames: ['All']}))).Attributes!
    expect(a.FifoQueue).toBe('true')
    expect(a.VisibilityTimeout).toBe('45')
    expect(a.MessageRetentionPeriod).toBe(String(2 * 86_400))
    const policy = JSON.parse(a.RedrivePolicy!) as {deadLetterTargetArn: string; maxReceiveCount: number | string}
    expect(policy.deadLetterTargetArn).toMatch(new RegExp(`:${dlq.replace('.', '\\.')}$`))
    expect(Number(policy.maxReceiveCount)).toBe(3)
    expect((await runCli(['delete', q, '--url', emulatorUrl(), '--yes'], {env, input: ''})).code).toBe(0)
    expect((await runCli(['inspect', dlq, '--url', emulatorUrl()], {env, input: ''})).code).toBe(0)
    expect((await runCli(['inspect', q, '--url', emulatorUrl()], {env, input: ''})).code).toBe(4)
  })

  it('a FIFO queue whose name does not end in .fifo is refused with the name to give', async () => {
    const r = await runCli(['create', `${tag}-plain`, '--url', emulatorUrl(), '--fifo'], {env, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/end in \.fifo/)
  })
})

describe('queue create on NATS JetStream', {timeout: 60_000}, () => {
  it('a stream with its subjects and retention, and a durable consumer with max deliver and ack wait', async () => {
    const {nc, jsm} = await natsAdmin()
    const stream = `WTLIFE_${process.pid}`
    try {
      const r = await cli(['create', `${stream}/workers`, '--url', NATS_URL, '--subjects', `wtlife.${process.pid}.>`, '--retention', 'workqueue', '--max-deliver', '4', '--ack-wait', '20s'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const s = await jsm.streams.info(stream)
      expect(s.config.subjects).toEqual([`wtlife.${process.pid}.>`])
      expect(s.config.retention).toBe('workqueue')
      const c = await jsm.consumers.info(stream, 'workers')
      expect(c.config.max_deliver).toBe(4)
      expect(c.config.ack_wait).toBe(20_000_000_000)
      const again = await cli(['create', stream, '--url', NATS_URL, '--retention', 'limits'])
      expect(again.code).toBe(2)
      expect(again.stderr).toMatch(/exists already/)
    } finally {
      await dropStream(jsm, stream)
      await nc.close()
    }
  })
})

describe('queue create / delete on pg-boss', {timeout: 90_000}, () => {
  it('policy, retries and dead letter as pg-boss getQueue reads them; delete leaves the neighbour', async () => {
    const db = await freshDatabase('wtlife')
    try {
      await installPgboss(db.url)
      const r = await cli(['create', 'pgboss:emails', '--url', db.url, '--policy', 'singleton', '--retry-limit', '3', '--retry-delay', '30s', '--retry-backoff', '--dead-letter-queue', 'emails-dead'])
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect((await cli(['enqueue', 'pgboss:emails2', '{"n":1}', '--create', '--url', db.url])).code).toBe(0)
      const {default: PgBoss} = await import('pg-boss')
      const boss = new PgBoss({connectionString: db.url, supervise: false, schedule: false})
      boss.on('error', () => {})
      await boss.start()
      try {
        expect(await boss.getQueue('emails')).toMatchObject({policy: 'singleton', retryLimit: 3, retryDelay: 30, retryBackoff: true, deadLetter: 'emails-dead'})
        expect(await boss.getQueue('emails-dead')).toBeTruthy()
        const del = await cli(['delete', 'pgboss:emails', '--url', db.url, '--yes'])
        expect(del.code).toBe(0)
        expect(await boss.getQueue('emails')).toBeFalsy()
        expect(await boss.getQueueSize('emails2')).toBe(1)
      } finally {
        await boss.stop({graceful: false, wait: true})
      }
    } finally {
      await db.drop()
    }
  })
})

describe('queue create / delete on Redis', {timeout: 60_000}, () => {
  const redis = new Redis(REDIS, {lazyConnect: true})
  afterAll(async () => {
    const keys = await redis.keys(`*${tag}*`)
    if (keys.length) await redis.del(...keys)
    redis.disconnect()
  })

  it('refuses settings on Redis (creating registers the name)', async () => {
    const r = await cli(['create', `bullmq:${tag}-x`, '--url', REDIS, '--retry-limit', '3'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/--retry-limit is not a setting of redis queues \(--retry-limit is for postgres\) — it takes no settings/)
  })

  it('delete of a BullMQ queue removes its keys and none of its neighbour\'s (a name it prefixes)', async () => {
    const a = `${tag}-mail`
    const b = `${tag}-mail2`
    for (const q of [a, b]) expect((await cli(['enqueue', `bullmq:${q}`, '{"n":1}', '--create', '--url', REDIS, '--count', '3'])).code).toBe(0)
    const before = await redis.keys(`bull:${b}:*`)
    expect(before.length).toBeGreaterThan(0)
    const r = await cli(['delete', `bullmq:${a}`, '--url', REDIS, '--yes', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({deleted: true, messages: 3})
    expect(await redis.keys(`bull:${a}:*`)).toEqual([])
    expect((await redis.keys(`bull:${b}:*`)).sort()).toEqual(before.sort())
    expect(await redis.llen(`bull:${b}:wait`)).toBe(3)
  })

  it('delete of a list queue leaves the list whose name it prefixes', async () => {
    const a = `${tag}-l`
    for (const q of [a, `${a}x`]) expect((await cli(['enqueue', `list:${q}`, '{"n":1}', '--create', '--url', REDIS])).code).toBe(0)
    expect((await cli(['delete', `list:${a}`, '--url', REDIS, '--yes'])).code).toBe(0)
    expect(await redis.exists(a)).toBe(0)
    expect(await redis.llen(`${a}x`)).toBe(1)
  })
})
