// Issue 20 for NATS JetStream: the "real worker" is a pull consumer of @nats-io/jetstream, and it
// gets exactly the bytes given (and the publisher's own headers, none of queuectl's) after
// queuectl's enqueue, retry (from STREAM_DLQ), move (from a stream, and from a Redis list) and
// export | import.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {jetstream, type JetStreamClient} from '@nats-io/jetstream'
import {headers} from '@nats-io/transport-node'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Lease} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {DB, REDIS_HOST} from '../redis/targets.js'
import {admin, dropStream, makeStream, NATS_URL, openNats, uniqueStream} from './helpers.js'

const env = isolatedHome()
const q = (args: string[], input?: string) => runCli([...args, '--url', NATS_URL], {env, timeoutMs: 60_000, input})

// JSON with its own spacing and key order (a re-serialisation would change the bytes), text, a number, binary
const GIVEN: Buffer[] = [
  Buffer.from('{"b": 2,  "a":[1, {"é":null}], "s":"tab\\t ✓"}'),
  Buffer.from('plain text, not JSON ✓'),
  Buffer.from('42'),
  Buffer.from([0xff, 0x00, 0x80, 0x7b, 0x22, 0xfe]),
]
const binFile = join(mkdtempSync(join(tmpdir(), 'natsfid-')), 'bin')
writeFileSync(binFile, GIVEN[3]!)

interface Got {
  data: string
  headers: Record<string, string>
}
const expected = (withTrace: boolean): Got[] => GIVEN.map((p, i): Got => ({data: p.toString('hex'), headers: withTrace ? {trace: `t${i}`} : {}}))

describe('a raw JetStream pull consumer gets exactly the bytes queuectl wrote', {timeout: 60_000}, () => {
  let conn: Awaited<ReturnType<typeof admin>>
  let js: JetStreamClient
  const made: string[] = []
  const fresh = async (hint: string) => {
    const s = await makeStream(conn.jsm, uniqueStream(`fid_${hint}`))
    made.push(s)
    return s
  }
  /** A raw publisher's messages, each with its own header. */
  const publishGiven = async (s: string) => {
    for (const [i, p] of GIVEN.entries()) {
      const h = headers()
      h.set('trace', `t${i}`)
      await js.publish(s, p, {headers: h})
    }
  }
  /** What the durable pull consumer "worker" fetches, in order: data as hex, headers other than Content-Type. */
  const fetchAll = async (s: string, n: number): Promise<Got[]> => {
    const c = await js.consumers.get(s, 'worker')
    const out: Got[] = []
    for (let round = 0; round < 5 && out.length < n; round++) {
      for await (const m of await c.fetch({max_messages: n - out.length, expires: 1000})) {
        const h: Record<string, string> = {}
        for (const [k, v] of m.headers ?? []) if (k !== 'Content-Type') h[k] = v.join(',')
        out.push({data: Buffer.from(m.data).toString('hex'), headers: h})
        m.ack()
      }
    }
    return out
  }

  beforeAll(async () => {
    conn = await admin()
    js = jetstream(conn.nc)
  })
  afterAll(async () => {
    for (const s of made) await dropStream(conn.jsm, s)
    await conn?.nc.close()
  })

  it('enqueue → the pull consumer gets the bytes, no queuectl header', async () => {
    const s = await fresh('enq')
    for (const p of GIVEN.slice(0, 3)) expect((await q(['enqueue', s, p.toString('utf8')])).code).toBe(0)
    const bin = await q(['enqueue', s, '--file', binFile])
    expect(bin.code, bin.stderr).toBe(0)
    expect(await fetchAll(s, 4)).toEqual(expected(false))
  })

  it('retry from the dead-letter stream → the pull consumer gets the bytes and the publisher’s headers only', async () => {
    const s = await fresh('retry')
    await publishGiven(s)
    const broker = await openNats()
    try {
      const leases: Lease[] = []
      const sub = await broker.consume(s, (l) => void leases.push(l), {prefetch: 4})
      for (let i = 0; i < 250 && leases.length < 4; i++) await new Promise((r) => setTimeout(r, 20))
      for (const l of leases) await l.deadLetter('first run fails')
      await sub.close()
      expect((await broker.stats(s)).counts).toMatchObject({waiting: 0, dead: 4})
    } finally {
      await broker.close()
    }
    const r = await q(['retry', s, '--yes'])
    expect(r.code, r.stderr).toBe(0)
    expect(await fetchAll(s, 4)).toEqual(expected(true))
  })

  it('move from a stream and from a Redis list → the pull consumer gets the bytes', async () => {
    const src = await fresh('mv_src')
    const dst = await fresh('mv_dst')
    await publishGiven(src)
    const moved = await q(['move', src, dst, '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(await fetchAll(dst, 4)).toEqual(expected(true))

    const redisUrl = `redis://${REDIS_HOST}/${DB.spare}`
    const list = `natsfid-${process.pid}-${Date.now().toString(36)}`
    const redis = new Redis(redisUrl)
    try {
      await redis.lpush(list, ...GIVEN)
      const r = await runCli(['move', `list:${list}`, dst, '--url', redisUrl, '--to-url', NATS_URL, '--yes', '--idle', '500ms'], {env, timeoutMs: 60_000})
      expect(r.code, r.stderr).toBe(0)
    } finally {
      await redis.del(list, `{${list}}:processing`, `{${list}}:leases`, `{${list}}:dead`)
      await redis.srem('queuectl:lists', list)
      redis.disconnect()
    }
    expect(await fetchAll(dst, 4)).toEqual(expected(false))
  })

  it('export | import → the pull consumer gets the bytes and the publisher’s headers', async () => {
    const src = await fresh('exp_src')
    const dst = await fresh('exp_dst')
    await publishGiven(src)
    const exported = await q(['export', src])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await q(['import', dst], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    expect(await fetchAll(dst, 4)).toEqual(expected(true))
  })
})
