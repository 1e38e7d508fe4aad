// The AMQP adapter's answers to bad input, against the local RabbitMQ: each must be one line with
// the right exit code, never a password, and must leave the connection usable.
import amqp from 'amqplib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {createBroker} from '../../../src/adapters/registry.js'
import {amqpTransport} from '../../../src/adapters/amqp/descriptor.js'
import {AMQP_URL, MGMT_AUTH, MGMT_URL, declareQueue, dropAllTestQueues, eventually, openAmqp, uniqueQueue} from './helpers.js'

const SECRET = 'Wr0ngPa55word'

async function connectError(url: string): Promise<{exitCode?: number; message: string}> {
  const broker = await createBroker(url, {timeoutMs: 5000})
  try {
    await broker.connect()
  } catch (error) {
    return error as {exitCode?: number; message: string}
  } finally {
    await broker.close()
  }
  throw new Error(`connecting to ${url} succeeded`)
}

async function messagesIn(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL)
  try {
    const ch = await conn.createChannel()
    ch.on('error', () => {}) // a missing queue rejects checkQueue too
    return (await ch.checkQueue(queue)).messageCount
  } finally {
    await conn.close()
  }
}

describe('amqp: connecting', () => {
  it('a wrong password is exit 3 and the password never shows', async () => {
    const error = await connectError(`amqp://guest:${SECRET}@127.0.0.1:5672/`)
    expect(error.exitCode).toBe(3)
    expect(error.message).toMatch(/refused the login/)
    expect(error.message).not.toContain(SECRET)
    expect(error.message.split('\n')).toHaveLength(1)
  })

  it('a user the management API refuses (no management tag): listing is exit 3 saying so, not "not supported"', async () => {
    const user = `qctl-notag-${process.pid}`
    const api = (path: string, method: string, body?: unknown) =>
      fetch(`${MGMT_URL}/api/${path}`, {method, headers: {authorization: MGMT_AUTH, 'content-type': 'application/json'}, body: body === undefined ? undefined : JSON.stringify(body)})
    expect((await api(`users/${user}`, 'PUT', {password: SECRET, tags: ''})).ok).toBe(true)
    try {
      expect((await api(`permissions/%2F/${user}`, 'PUT', {configure: '.*', write: '.*', read: '.*'})).ok).toBe(true)
      const broker = await createBroker(`amqp://${user}:${SECRET}@127.0.0.1:5672/`, {timeoutMs: 5000})
      try {
        await broker.connect() // AMQP itself accepts the user: connecting works, without the API
        expect((await broker.capabilitiesOf()).listQueues).toBe(false)
        const error = (await broker.listQueues().then(() => undefined, (e: unknown) => e)) as {exitCode?: number; message: string}
        expect(error.exitCode).toBe(3)
        expect(error.message).toMatch(/management API at \S+ refused the credentials \(HTTP 401\)/)
        expect(error.message).not.toContain(SECRET)
      } finally {
        await broker.close()
      }
    } finally {
      await api(`users/${user}`, 'DELETE')
    }
  })

  it('a vhost that does not exist is exit 3 and names the vhost', async () => {
    const error = await connectError(`amqp://guest:guest@127.0.0.1:5672/no-such-vhost-${process.pid}`)
    expect(error.exitCode).toBe(3)
    expect(error.message).toContain(`no-such-vhost-${process.pid}`)
    expect(error.message).not.toContain(':guest@')
  })

  it('nothing listening is exit 3', async () => {
    const error = await connectError('amqp://guest:guest@127.0.0.1:1/')
    expect(error.exitCode).toBe(3)
    expect(error.message).toMatch(/connection refused/)
  })

  it('amqps:// to a port that speaks plain AMQP is exit 3 (TLS handshake)', async () => {
    const error = await connectError('amqps://guest:guest@127.0.0.1:5672/')
    expect(error.exitCode).toBe(3)
    expect(error.message).toMatch(/does not speak TLS/)
    expect(error.message.split('\n')).toHaveLength(1)
    expect(error.message).not.toContain(':guest@')
  })

  it('a --tls-ca file that cannot be read is a usage error', async () => {
    await expect(createBroker('amqps://127.0.0.1/', {timeoutMs: 1000, tls: {caFile: '/nonexistent/ca.pem'}})).rejects.toMatchObject({exitCode: 2, message: expect.stringContaining('/nonexistent/ca.pem')})
  })

  it('fails over to the next host of hosts= when the first refuses', async () => {
    const broker = await createBroker('amqp://guest:guest@127.0.0.1:1/?hosts=127.0.0.1:5672', {timeoutMs: 5000})
    try {
      await broker.connect()
      const q = await declareQueue(uniqueQueue('failover'))
      expect((await broker.stats(q)).counts.waiting).toBe(0)
      expect(broker.displayUrl).not.toContain('guest:guest')
    } finally {
      await broker.close()
    }
  })
})

describe('amqp: refusals that keep the connection usable', () => {
  let broker: Broker
  beforeAll(async () => {
    broker = await openAmqp()
  })
  afterAll(async () => {
    await broker?.close()
    await dropAllTestQueues()
  }, 30_000)

  it('publishing to a missing queue is exit 4 and creates nothing', async () => {
    const q = uniqueQueue('missing')
    await expect(broker.enqueue(q, [{payload: 'lost?'}])).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining(`"${q}" not found`)})
    await expect(messagesIn(q)).rejects.toThrow(/NOT_FOUND/)
    const other = await declareQueue(uniqueQueue('after-missing'))
    expect(await broker.enqueue(other, [{payload: 'ok'}])).toHaveLength(1)
  })

  it('a queue redeclared with other arguments: PRECONDITION_FAILED in one line, connection still fine', async () => {
    const q = await declareQueue(uniqueQueue('precondition'))
    const quorum = await openAmqp('?queueType=quorum')
    try {
      const error = (await quorum.createQueue(q).catch((e: unknown) => e)) as {exitCode: number; message: string}
      expect(error.exitCode).toBe(4)
      expect(error.message).toMatch(/already exists with different arguments \(PRECONDITION_FAILED: .*x-queue-type/)
      expect(error.message.split('\n')).toHaveLength(1)
      // the failed declare closed only a throwaway channel
      expect(await quorum.enqueue(q, [{payload: 'still works'}])).toHaveLength(1)
      expect((await quorum.stats(q)).counts.waiting).toBe(1)
    } finally {
      await quorum.close()
    }
  })

  it('a message over max_message_size is refused before anything is sent', async () => {
    const q = await declareQueue(uniqueQueue('toobig'))
    const huge = Buffer.alloc(128 * 1024 * 1024 + 1)
    const error = (await broker.enqueue(q, [{payload: 'small'}, {payload: huge}]).catch((e: unknown) => e)) as {exitCode: number; message: string}
    expect(error.exitCode).toBe(4)
    expect(error.message).toMatch(/message 2 is .* over RabbitMQ's max_message_size .* nothing was sent/)
    expect(await messagesIn(q)).toBe(0)
  })

  it('a message the broker itself refuses as too large: reported with confirmed counts, next batch fine', async () => {
    const q = await declareQueue(uniqueQueue('toobig-broker'))
    // claim the server allows more than it does, so the broker's own check is what stops it
    const lying = await openAmqp('?maxMessageBytes=536870912')
    try {
      const error = (await lying.enqueue(q, [{payload: 'a'}, {payload: Buffer.alloc(128 * 1024 * 1024 + 1)}]).catch((e: unknown) => e)) as {
        exitCode: number
        message: string
        confirmed: number
      }
      expect(error.message).toMatch(/too large \(PRECONDITION_FAILED - message size 134217729 is larger than configured max size/)
      expect(error.message).toMatch(/1 of 2 confirmed, the rest were not stored/)
      expect(error.exitCode).toBe(4)
      expect(error.confirmed).toBe(1)
      expect(await lying.enqueue(q, [{payload: 'after'}])).toHaveLength(1)
    } finally {
      await lying.close()
    }
  }, 60_000)

  it('a channel closed by the broker mid-batch: EnqueueError exit 3 with sent and confirmed counts', async () => {
    const q = await declareQueue(uniqueQueue('midbatch'))
    // the adapter itself (not the guard around it): its connection name finds it in the management API
    const adapter = await (await amqpTransport.load())(new URL(AMQP_URL), {timeoutMs: 10_000})
    const victim = adapter as typeof adapter & {connectionName: string}
    await victim.connect()
    const batch = Array.from({length: 200_000}, (_, i) => ({payload: `m${i}`}))
    // find our connection before sending: the management API can take seconds to list it, and a
    // quiet machine publishes a whole batch in less than that
    await victim.enqueue(q, [{payload: 'warm-up'}])
    const names = await eventually(async () => {
      const res = await fetch(`${MGMT_URL}/api/connections`, {headers: {authorization: MGMT_AUTH}})
      const all = (await res.json()) as {name: string; client_properties?: {connection_name?: string}}[]
      const mine = all.filter((c) => c.client_properties?.connection_name === victim.connectionName).map((c) => c.name)
      return mine.length > 0 ? mine : undefined
    }, 15_000, 'the connection in the management API')
    let progressed = 0
    const sending = victim.enqueue(q, batch, {onProgress: (n) => (progressed = n)}).catch((e: unknown) => e)
    // close the connection from the broker's side (as an operator or a node shutdown would)
    await eventually(() => (progressed > 0 ? true : undefined), 30_000, 'the batch to be under way')
    for (const name of names) {
      await fetch(`${MGMT_URL}/api/connections/${encodeURIComponent(name)}`, {method: 'DELETE', headers: {authorization: MGMT_AUTH, 'x-reason': 'test closes it'}})
    }
    const error = (await sending) as {exitCode: number; message: string; sent: number; confirmed: number; published: number; pending: number[]; transient: boolean}
    await victim.close()
    expect(error).toBeInstanceOf(Error)
    expect(error.exitCode).toBe(3)
    expect(error.message).toMatch(/\d+ of 200000 published, \d+ confirmed by RabbitMQ/)
    expect(error.confirmed).toBeLessThan(200_000)
    expect(error.confirmed).toBeLessThanOrEqual(error.published)
    expect(error.sent).toBe(error.confirmed)
    // which ones to re-send, and that re-sending later may work (the connection dropped, not a refusal)
    expect(error.pending).toHaveLength(batch.length - error.confirmed)
    expect(error.transient).toBe(true)
    // at least what was confirmed is really in the queue
    expect(await messagesIn(q)).toBeGreaterThanOrEqual(error.confirmed + 1) // + the warm-up
  }, 90_000)

  it('messages the broker nacks (queue full, reject-publish) are counted, exit 1', async () => {
    const q = await declareQueue(uniqueQueue('full'), {args: {'x-max-length': 5, 'x-overflow': 'reject-publish'}})
    const error = (await broker.enqueue(q, Array.from({length: 8}, (_, i) => ({payload: `f${i}`}))).catch((e: unknown) => e)) as {
      exitCode: number
      message: string
      confirmed: number
    }
    expect(error.exitCode).toBe(1)
    expect(error.message).toMatch(/refused 3 of 8/)
    expect(error.confirmed).toBe(5)
    expect(await messagesIn(q)).toBe(5)
  })

  it('delay without the delayed-message plugin is refused with the TTL + DLX alternative', async () => {
    expect((await broker.capabilitiesOf()).delay).toBe(false)
    const q = await declareQueue(uniqueQueue('delay'))
    const error = (await broker.enqueue(q, [{payload: 'later', delayMs: 5000}]).catch((e: unknown) => e)) as {exitCode: number; message: string}
    expect(error.exitCode).toBe(4)
    expect(error.message).toMatch(/rabbitmq_delayed_message_exchange/)
    expect(error.message).toMatch(/x-message-ttl/)
    expect(error.message).toMatch(/x-dead-letter-routing-key=/)
    expect(await messagesIn(q)).toBe(0)
  })

  it('priority is refused where RabbitMQ would ignore it', async () => {
    const plain = await declareQueue(uniqueQueue('nopriority'))
    await expect(broker.enqueue(plain, [{payload: 'p', priority: 3}])).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/without x-max-priority/)})
    const capped = await declareQueue(uniqueQueue('priority5'), {maxPriority: 5})
    await expect(broker.enqueue(capped, [{payload: 'p', priority: 9}])).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/above the x-max-priority \(5\)/)})
    const quorum = await openAmqp('?queueType=quorum')
    try {
      expect((await quorum.capabilitiesOf()).priority).toBe(false)
      await expect(quorum.enqueue(plain, [{payload: 'p', priority: 1}])).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/quorum queues have no message priority/)})
    } finally {
      await quorum.close()
    }
    expect(await messagesIn(plain)).toBe(0)
  })

  it('dedup ids and groups are refused (SQS FIFO features)', async () => {
    const q = await declareQueue(uniqueQueue('dedup'))
    await expect(broker.enqueue(q, [{payload: 'x', dedupId: 'a'}])).rejects.toMatchObject({exitCode: 4})
  })

  it('unknown URL parameters are a usage error', async () => {
    await expect(createBroker('amqp://127.0.0.1/?queuetype=quorum', {timeoutMs: 1000})).rejects.toMatchObject({exitCode: 2, message: expect.stringContaining('queueType')})
  })
})
