// Issue 20 for plain lists and streams: the "real worker" is the raw client their users consume
// with — BRPOP on a list (producers LPUSH, README), XREADGROUP on a stream — and it gets exactly
// the bytes given after queuectl's enqueue, retry (lists: the dead list), move and export | import:
// no envelope, no re-serialised JSON, nothing but the `payload` field on a stream entry.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Lease} from '../../../src/broker/contract.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const env = isolatedHome()
const url = `redis://${REDIS_HOST}/${DB.spare}`
const tag = `rawfid-${process.pid}-${Date.now().toString(36)}`
const q = (args: string[], input?: string) => runCli([...args, '--url', url], {env, timeoutMs: 60_000, input})

// JSON with its own spacing and key order (a re-serialisation would change the bytes), text, a number, binary
const GIVEN: Buffer[] = [
  Buffer.from('{"b": 2,  "a":[1, {"é":null}], "s":"tab\\t ✓"}'),
  Buffer.from('plain text, not JSON ✓'),
  Buffer.from('42'),
  Buffer.from([0xff, 0x00, 0x80, 0x7b, 0x22, 0xfe]),
]
const binFile = join(mkdtempSync(join(tmpdir(), 'rawfid-')), 'bin')
writeFileSync(binFile, GIVEN[3]!)

const hex = (bufs: Buffer[]) => bufs.map((b) => b.toString('hex'))

describe('raw list and stream consumers get exactly the bytes queuectl wrote', {timeout: 60_000}, () => {
  let raw: Redis
  const keys: string[] = []
  const name = (hint: string) => {
    const n = `${tag}-${hint}`
    keys.push(n, `{${n}}:processing`, `{${n}}:leases`, `{${n}}:dead`)
    return n
  }
  /** Enqueues GIVEN one CLI call each, the binary one from a file. */
  const enqueueGiven = async (queue: string) => {
    for (const p of GIVEN.slice(0, 3)) expect((await q(['enqueue', queue, p.toString('utf8')])).code).toBe(0)
    const bin = await q(['enqueue', queue, '--file', binFile])
    expect(bin.code, bin.stderr).toBe(0)
  }
  /** What BRPOP programs (LPUSH producers' consumers) take, oldest first. */
  const brpopAll = async (key: string, n: number) => {
    const out: Buffer[] = []
    for (let i = 0; i < n; i++) {
      const r = await raw.brpopBuffer(key, 2)
      if (!r) break
      out.push(r[1])
    }
    expect(await raw.llen(key)).toBe(0)
    return out
  }
  /** What an XREADGROUP consumer of a new group sees: each entry's fields, in order. */
  const xreadgroupAll = async (key: string) => {
    await raw.xgroup('CREATE', key, 'raw-workers', '0')
    const r = (await raw.xreadgroupBuffer('GROUP', 'raw-workers', 'w1', 'COUNT', 100, 'STREAMS', key, '>')) as [Buffer, [Buffer, Buffer[]][]][] | null
    return (r?.[0]?.[1] ?? []).map(([, fields]) => fields)
  }
  /** A raw producer's items, dead-lettered by a queuectl consumer (the dead list holds envelopes with the error). */
  const deadList = async (key: string) => {
    await raw.lpush(key, ...GIVEN)
    const broker = await openRedis(url)
    try {
      const leases: Lease[] = []
      const sub = await broker.consume(`list:${key}`, (l) => void leases.push(l), {prefetch: 4})
      const end = Date.now() + 10_000
      while (leases.length < 4 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
      for (const l of leases) await l.deadLetter('first run fails')
      await sub.close()
    } finally {
      await broker.close()
    }
    expect(await raw.llen(`{${key}}:dead`)).toBe(4)
  }
  const onlyPayload = (entries: Buffer[][]) => entries.map((f) => ({fields: f.filter((_, i) => i % 2 === 0).map(String), payload: f[1]!.toString('hex')}))
  const expectedEntries = GIVEN.map((p) => ({fields: ['payload'], payload: p.toString('hex')}))

  beforeAll(() => {
    raw = new Redis(url)
  })
  afterAll(async () => {
    if (keys.length > 0) await raw.del(...keys)
    await raw.srem('queuectl:lists', ...keys)
    raw.disconnect()
  })

  it('list: enqueue → BRPOP gets the bytes, oldest first', async () => {
    const key = name('enq')
    await enqueueGiven(`list:${key}`)
    expect(hex(await brpopAll(key, 4))).toEqual(hex(GIVEN))
  })

  it('list: retry of dead-lettered items → BRPOP gets the bytes, no envelope', async () => {
    const key = name('retry')
    await deadList(key)
    const r = await q(['retry', `list:${key}`, '--yes'])
    expect(r.code, r.stderr).toBe(0)
    expect(hex(await brpopAll(key, 4))).toEqual(hex(GIVEN))
  })

  it('list: move from a list and from a stream → BRPOP gets the bytes', async () => {
    const src = name('mv-src')
    const dst = name('mv-dst')
    await raw.lpush(src, ...GIVEN)
    const moved = await q(['move', `list:${src}`, `list:${dst}`, '--create', '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(hex(await brpopAll(dst, 4))).toEqual(hex(GIVEN))

    const stream = name('mv-stream')
    for (const p of GIVEN) await raw.xadd(stream, '*', 'payload', p)
    const fromStream = await q(['move', `stream:${stream}`, `list:${dst}`, '--yes', '--idle', '500ms'])
    expect(fromStream.code, fromStream.stderr).toBe(0)
    expect(hex(await brpopAll(dst, 4))).toEqual(hex(GIVEN))
  })

  it('list: a move or export --consume that stops early (--limit, a destination that refuses) leaves the rest on the source as the same bytes', async () => {
    const src = name('mv-stop-src')
    const dst = name('mv-stop-dst')
    await raw.lpush(src, ...GIVEN)
    const one = await q(['move', `list:${src}`, `list:${dst}`, '--create', '--yes', '--limit', '1', '--idle', '500ms'])
    expect(one.code, one.stderr).toBe(0)
    expect(hex(await brpopAll(dst, 1))).toEqual(hex(GIVEN.slice(0, 1)))
    // asynq needs a task type the list items lack: the move stops with exit 2, nothing moved
    const refused = await q(['move', `list:${src}`, `asynq:${dst}-asynq`, '--create', '--yes', '--idle', '500ms'])
    expect(refused.code).toBe(2)
    await raw.srem('asynq:queues', `${dst}-asynq`)
    // export --consume past its --limit hands the rest back too
    const drained = await q(['export', `list:${src}`, '--consume', '--limit', '1', '--yes', '--idle', '500ms'])
    expect(drained.code, drained.stderr).toBe(0)
    const lines = drained.stdout.trim().split('\n').map((l) => JSON.parse(l) as {payload?: string; payloadBase64?: string})
    expect(lines).toHaveLength(1)
    const taken = lines[0]!.payloadBase64 !== undefined ? Buffer.from(lines[0]!.payloadBase64, 'base64') : Buffer.from(lines[0]!.payload!)
    // the bytes, not their order: which end a hand-back goes to is the consumer's business
    expect(hex(await brpopAll(src, 2)).sort()).toEqual(hex(GIVEN.slice(1)).filter((h) => h !== taken.toString('hex')).sort())
  })

  it('list: export | import, of waiting and of dead items → BRPOP gets the bytes', async () => {
    const src = name('exp-src')
    const dst = name('exp-dst')
    await raw.lpush(src, ...GIVEN)
    const exported = await q(['export', `list:${src}`])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await q(['import', `list:${dst}`, '--create'], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    expect(hex(await brpopAll(dst, 4))).toEqual(hex(GIVEN))

    const dead = name('exp-dead')
    await deadList(dead)
    const exportedDead = await q(['export', `list:${dead}`, '--state', 'dead'])
    expect(exportedDead.code, exportedDead.stderr).toBe(0)
    const importedDead = await q(['import', `list:${dst}`], exportedDead.stdout)
    expect(importedDead.code, importedDead.stderr).toBe(0)
    expect(hex(await brpopAll(dst, 4))).toEqual(hex(GIVEN))
  })

  it('stream: enqueue → XREADGROUP gets entries of the one field payload, the bytes given', async () => {
    const key = name('s-enq')
    await enqueueGiven(`stream:${key}`)
    expect(onlyPayload(await xreadgroupAll(key))).toEqual(expectedEntries)
  })

  it('stream: move from a stream and from a list → XREADGROUP gets the bytes', async () => {
    const src = name('s-mv-src')
    const dst = name('s-mv-dst')
    for (const p of GIVEN) await raw.xadd(src, '*', 'payload', p)
    const moved = await q(['move', `stream:${src}`, `stream:${dst}`, '--create', '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    const list = name('s-mv-list')
    await raw.lpush(list, ...GIVEN)
    const fromList = await q(['move', `list:${list}`, `stream:${dst}`, '--yes', '--idle', '500ms'])
    expect(fromList.code, fromList.stderr).toBe(0)
    expect(onlyPayload(await xreadgroupAll(dst))).toEqual([...expectedEntries, ...expectedEntries])
  })

  it('stream: entries of other programs’ own fields keep those fields through move and export | import (dead ones too)', async () => {
    const fields = [['job', 'resize', 'size', '100x100'], ['a', '1', 'text', 'é ✓ "q"']]
    const fill = async (key: string) => {
      for (const f of fields) await raw.xadd(key, '*', ...f)
    }
    const readFields = async (key: string) => (await xreadgroupAll(key)).map((f) => f.map(String))
    const src = name('s-own-src')
    const dst = name('s-own-dst')
    await fill(src)
    const exported = await q(['export', `stream:${src}`])
    expect(exported.code, exported.stderr).toBe(0)
    expect((await q(['import', `stream:${dst}`, '--create'], exported.stdout)).code).toBe(0)
    expect(await readFields(dst)).toEqual(fields)

    const mvSrc = name('s-own-mv')
    const mvDst = name('s-own-mv-dst')
    await fill(mvSrc)
    const moved = await q(['move', `stream:${mvSrc}`, `stream:${mvDst}`, '--create', '--yes', '--idle', '500ms'])
    expect(moved.code, moved.stderr).toBe(0)
    expect(await readFields(mvDst)).toEqual(fields)

    // dead-lettered by a queuectl consumer, then exported from the dead entries: the error and count are not fields of the job
    const dead = name('s-own-dead')
    const deadDst = name('s-own-dead-dst')
    await fill(dead)
    const broker = await openRedis(url)
    try {
      const leases: Lease[] = []
      const sub = await broker.consume(`stream:${dead}`, (l) => void leases.push(l), {prefetch: 2})
      const end = Date.now() + 10_000
      while (leases.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
      for (const l of leases) await l.deadLetter('first run fails')
      await sub.close()
      const [peeked] = await broker.peek(`stream:${dead}`, {limit: 1, state: 'dead'})
      expect(peeked).toMatchObject({lastError: 'first run fails', body: {job: 'resize', size: '100x100'}})
    } finally {
      await broker.close()
    }
    const exportedDead = await q(['export', `stream:${dead}`, '--state', 'dead'])
    expect(exportedDead.code, exportedDead.stderr).toBe(0)
    expect((await q(['import', `stream:${deadDst}`, '--create'], exportedDead.stdout)).code).toBe(0)
    expect(await readFields(deadDst)).toEqual(fields)
  })

  it('stream: export | import → XREADGROUP gets the bytes', async () => {
    const src = name('s-exp-src')
    const dst = name('s-exp-dst')
    for (const p of GIVEN) await raw.xadd(src, '*', 'payload', p)
    const exported = await q(['export', `stream:${src}`])
    expect(exported.code, exported.stderr).toBe(0)
    const imported = await q(['import', `stream:${dst}`, '--create'], exported.stdout)
    expect(imported.code, imported.stderr).toBe(0)
    expect(onlyPayload(await xreadgroupAll(dst))).toEqual(expectedEntries)
  })
})
