// nats:// through the built CLI (bin/run.js; `npm run build` first): `queue inspect` shows consumer
// info's numbers for a stream half-consumed by a raw client, `queue enqueue` reaches a raw consumer
// byte for byte with its headers, and the bad input of the issue exits as documented.
import {jetstream} from '@nats-io/jetstream'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {admin, dropStream, makeStream, NATS_URL, uniqueStream} from './helpers.js'

const env = isolatedHome()
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('queue … on nats://', {timeout: 60_000}, () => {
  let conn: Awaited<ReturnType<typeof admin>>
  const made: string[] = []
  const fresh = async (hint: string, ackWaitMs?: number) => {
    const s = await makeStream(conn.jsm, uniqueStream(`cli_${hint}`), {ackWaitMs})
    made.push(s)
    return s
  }
  beforeAll(async () => {
    conn = await admin()
  })
  afterAll(async () => {
    for (const s of made) await dropStream(conn.jsm, s)
    await conn?.nc.close()
  })

  it('inspect shows consumer info\'s pending / ack-pending / redelivered for a half-consumed stream', async () => {
    const s = await fresh('half', 1000)
    const js = jetstream(conn.nc)
    for (let i = 0; i < 12; i++) await js.publish(s, `m${i}`)
    const c = await js.consumers.get(s, 'worker')
    let i = 0
    for await (const m of await c.fetch({max_messages: 7, expires: 2000})) if (i++ < 3) m.ack() // 3 acked, 4 left
    await sleep(1300)
    for await (const m of await c.fetch({max_messages: 2, expires: 1000})) void m // 2 redelivered, not acked
    const info = await conn.jsm.consumers.info(s, 'worker')
    const r = await runCli(['inspect', s, '--url', NATS_URL, '--json'], {env})
    expect(r.code, r.stderr).toBe(0)
    const q = (JSON.parse(r.stdout) as {queue: {counts: Record<string, number>; details: Record<string, number>}}).queue
    expect(info.num_redelivered).toBeGreaterThan(0)
    expect(q.counts.waiting).toBe(info.num_pending)
    expect(q.counts.inflight).toBe(info.num_ack_pending)
    expect(q.details.redelivered).toBe(info.num_redelivered)
    expect(q.details.pullRequestsWaiting).toBe(info.num_waiting)
  })

  it('enqueue → a raw consumer receives the exact bytes and headers', async () => {
    const s = await fresh('enqueue')
    const payload = '{"to":"ada@example.com","n":1}'
    const r = await runCli(['enqueue', s, '--url', NATS_URL, '-H', 'trace=abc', '-H', 'tenant=acme', '--name', 'email', '--dedup-id', 'once-1'], {env, input: payload})
    expect(r.code, r.stderr).toBe(0)
    const c = await jetstream(conn.nc).consumers.get(s, 'worker')
    for await (const m of await c.fetch({max_messages: 1, expires: 2000})) {
      expect(m.string()).toBe(payload)
      expect(Object.fromEntries([...m.headers!].map(([k, v]) => [k, v.join(',')]))).toMatchObject({trace: 'abc', tenant: 'acme', 'Queuectl-Name': 'email', 'Nats-Msg-Id': 'once-1'})
      m.ack()
    }
  })

  it('a missing stream is exit 4 with the near name; a payload over max_payload exit 2, nothing sent', async () => {
    const s = await fresh('typo')
    const miss = await runCli(['inspect', `${s}x`, '--url', NATS_URL], {env})
    expect(miss.code).toBe(4)
    expect(miss.stderr).toContain(`did you mean: ${s}`)
    const big = await runCli(['enqueue', s, '--url', NATS_URL], {env, input: Buffer.alloc(1024 * 1024 + 10, 97)})
    expect(big.code).toBe(2)
    expect((await conn.jsm.streams.info(s)).state.messages).toBe(0)
  })
})
