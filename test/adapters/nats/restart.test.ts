// nats-server killed (SIGKILL) and started again on the same store while a consumer runs: with
// reconnectMs the subscription rides it out and every message arrives (duplicates allowed, none
// lost); without, it ends with a ConnectionError. The server is the test's own, on a spare port.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {isolatedHome} from '../../helpers/cli.js'
import {completedSeqs, killChildren, ledger, numbered, runQ, startCli, until as waitFor} from '../../reliability/harness.js'
import {admin, makeStream, openNats, PrivateNats} from './helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

describe('nats:// across a nats-server restart', () => {
  let server: PrivateNats
  let url: string
  beforeAll(async () => {
    server = await PrivateNats.create()
    await server.start()
    url = `nats://127.0.0.1:${server.port}`
  }, 20_000)
  afterAll(async () => {
    killChildren()
    await server?.dispose()
  })

  async function prepare(name: string, n: number): Promise<Broker> {
    const conn = await admin(`127.0.0.1:${server.port}`)
    await makeStream(conn.jsm, name, {ackWaitMs: 2000})
    await conn.nc.close()
    const broker = await openNats(url)
    for (let i = 0; i < n; i += 500) await broker.enqueue(name, Array.from({length: Math.min(500, n - i)}, (_, k) => ({payload: String(i + k)})))
    return broker
  }

  it('consume with reconnectMs rides out a SIGKILL and restart: nothing lost', async () => {
    const n = 2000
    const broker = await prepare('RESTART', n)
    const seen = new Set<string>()
    let deliveries = 0
    const states: string[] = []
    const sub = await broker.consume(
      'RESTART',
      (lease) => {
        deliveries++
        setTimeout(() => {
          seen.add(lease.message.payload.toString())
          void lease.ack().catch(() => {})
        }, 2)
      },
      {prefetch: 20, reconnectMs: 30_000, onConnection: (state) => states.push(state)},
    )
    let ended: Error | undefined | 'open' = 'open'
    void sub.closed.then((e) => (ended = e))
    await until(() => seen.size >= 300, 20_000, '300 messages before the crash')
    await server.stop('SIGKILL')
    await sleep(1000)
    await server.start()
    await until(() => seen.size >= n, 60_000, `all ${n} messages after the restart (have ${seen.size})`)
    expect(ended).toBe('open')
    await sub.close()
    await broker.close()
    console.log(`[nats-restart] ${JSON.stringify({messages: n, deliveries, duplicates: deliveries - n, states})}`)
    expect(states).toContain('lost')
    expect(states.at(-1)).toBe('back')
    expect(seen.size).toBe(n)
  }, 90_000)

  it('without reconnectMs the subscription ends with a ConnectionError when the server goes', async () => {
    const broker = await prepare('NORECONNECT', 10)
    const sub = await broker.consume('NORECONNECT', (lease) => void lease.ack(), {prefetch: 5})
    await sleep(300)
    await server.stop('SIGKILL')
    const error = await Promise.race([sub.closed, sleep(10_000).then(() => 'still open')])
    await server.start()
    await broker.close()
    expect(error).toMatchObject({exitCode: 3, transient: true})
  }, 30_000)

  it('queue work across a restart waits it out and completes every message (built CLI)', async () => {
    const env = isolatedHome()
    const conn = await admin(`127.0.0.1:${server.port}`)
    await makeStream(conn.jsm, 'WORKRESTART', {ackWaitMs: 3000})
    await conn.nc.close()
    const n = 1500
    const enq = await runQ(['enqueue', 'WORKRESTART', '--url', url], {env, input: numbered(0, n)})
    expect(enq.code, enq.stderr).toBe(0)
    const w = startCli(['work', 'WORKRESTART', '--url', url, '--echo', '--json', '--delay-ms', '5', '--concurrency', '8', '--until-empty', '--reconnect-timeout', '30s'], env)
    await waitFor(() => completedSeqs(w.stdout()).length >= 200, 'the worker to complete 200', 30_000)
    await server.stop('SIGKILL')
    await sleep(1000)
    await server.start()
    const exit = await w.exited
    expect(exit.code, w.stderr()).toBe(0)
    const book = ledger(n, completedSeqs(w.stdout()))
    console.log(`[nats-restart] work: ${JSON.stringify({...book, lost: book.lost.length})}`)
    expect(book.lost).toEqual([])
  }, 90_000)
})

