// Bad input on nats://: wrong credentials (exit 3, password never shown), nothing listening
// (exit 3), a missing stream or consumer (exit 4, near names), a subject no stream captures
// (exit 4), a payload over max_payload (exit 2, nothing sent), delay/priority refused.
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {nkeys} from '@nats-io/transport-node'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'
import {admin, dropStream, freePort, makeStream, openNats, PrivateNats, uniqueStream} from './helpers.js'

describe('nats:// connection failures', () => {
  let server: PrivateNats
  beforeAll(async () => {
    server = await PrivateNats.create(['--user', 'u', '--pass', 'p4ssw0rd-secret'])
    await server.start()
  }, 20_000)
  afterAll(() => server?.dispose())

  it('a wrong password is a ConnectionError (exit 3) that never shows it', async () => {
    const broker = await createBroker(`nats://u:wrong-secret-pw@127.0.0.1:${server.port}`, {timeoutMs: 3000})
    const error = await broker.connect().then(() => undefined, (e: unknown) => e as Error & {exitCode: number})
    await broker.close()
    expect(error).toMatchObject({exitCode: 3})
    expect(error!.message).toMatch(/refused the login/)
    expect(error!.message).not.toContain('wrong-secret-pw')
    expect(broker.displayUrl).toBe(`nats://u:***@127.0.0.1:${server.port}`)
  })

  it('the right password connects', async () => {
    const broker = await openNats(`nats://u:p4ssw0rd-secret@127.0.0.1:${server.port}`)
    expect(await broker.listQueues()).toEqual([])
    await broker.close()
  })

  it('a token is redacted like a password', async () => {
    const broker = await createBroker(`nats://s3cr3t-token@127.0.0.1:${server.port}`, {timeoutMs: 3000})
    expect(broker.displayUrl).toBe(`nats://***@127.0.0.1:${server.port}`)
    const error = await broker.connect().then(() => undefined, (e: unknown) => e as Error & {exitCode: number})
    await broker.close()
    expect(error).toMatchObject({exitCode: 3})
    expect(error!.message).not.toContain('s3cr3t-token')
  })

  it('a server without JetStream is exit 3, saying to start it with -js', async () => {
    const plain = await PrivateNats.create(['--no-js'])
    await plain.start()
    try {
      const broker = await createBroker(`nats://127.0.0.1:${plain.port}`, {timeoutMs: 2000})
      await expect(broker.connect()).rejects.toMatchObject({exitCode: 3, message: expect.stringMatching(/has no JetStream — start nats-server with -js/)})
      await broker.close()
    } finally {
      await plain.dispose()
    }
  })

  it('nothing listening is a transient ConnectionError (exit 3)', async () => {
    const port = await freePort()
    const broker = await createBroker(`nats://127.0.0.1:${port}`, {timeoutMs: 2000})
    await expect(broker.connect()).rejects.toMatchObject({exitCode: 3, transient: true})
    await broker.close()
  })

  it('several seeds: the URL keeps them all, and any live one serves', async () => {
    const dead = await freePort()
    const broker = await createBroker(`nats://u:p4ssw0rd-secret@127.0.0.1:${dead},127.0.0.1:${server.port}`, {timeoutMs: 3000})
    expect(broker.displayUrl).toBe(`nats://u:***@127.0.0.1:${dead},127.0.0.1:${server.port}`)
    await broker.connect()
    await broker.close()
  })
})

describe('nats:// with an nkey', () => {
  let server: PrivateNats
  let dir: string
  let seedFile: string
  beforeAll(async () => {
    const user = nkeys.createUser()
    dir = mkdtempSync(join(tmpdir(), 'queuectl-nkey-'))
    seedFile = join(dir, 'user.nk')
    writeFileSync(seedFile, `${new TextDecoder().decode(user.getSeed())}\n`)
    writeFileSync(join(dir, 'server.conf'), `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n`)
    server = await PrivateNats.create(['-c', join(dir, 'server.conf')])
    await server.start()
  }, 20_000)
  afterAll(async () => {
    await server?.dispose()
    rmSync(dir, {recursive: true, force: true})
  })

  it('?nkey=FILE signs in with the seed in that file', async () => {
    const broker = await openNats(`nats://127.0.0.1:${server.port}?nkey=${seedFile}`)
    expect(await broker.listQueues()).toEqual([])
    await broker.close()
  })

  it('without it the login is refused (exit 3); a missing file is exit 2', async () => {
    const none = await createBroker(`nats://127.0.0.1:${server.port}`, {timeoutMs: 3000})
    await expect(none.connect()).rejects.toMatchObject({exitCode: 3, message: expect.stringMatching(/refused the login/)})
    await none.close()
    const missing = await createBroker(`nats://127.0.0.1:${server.port}?nkey=${join(dir, 'nope.nk')}`, {timeoutMs: 3000})
    await expect(missing.connect()).rejects.toMatchObject({exitCode: 2, message: expect.stringMatching(/cannot read the nkey seed file/)})
    await missing.close()
  })
})

describe('nats:// bad queues and messages', () => {
  let broker: Broker
  let conn: Awaited<ReturnType<typeof admin>>
  let stream: string
  beforeAll(async () => {
    conn = await admin()
    stream = await makeStream(conn.jsm, uniqueStream('badinput_orders'))
    broker = await openNats()
  })
  afterAll(async () => {
    await dropStream(conn.jsm, stream)
    await broker?.close()
    await conn?.nc.close()
  })

  it('a missing stream is a NotFoundError (exit 4) naming near streams', async () => {
    const typo = stream.replace('orders', 'ordres')
    const error = await broker.stats(typo).then(() => undefined, (e: unknown) => e as Error & {exitCode: number; suggestions: string[]})
    expect(error).toMatchObject({exitCode: 4})
    expect(error!.message).toContain(`stream "${typo}" not found`)
    expect(error!.suggestions).toContain(stream)
  })

  it('a missing consumer is a NotFoundError (exit 4) naming the stream\'s consumers', async () => {
    const error = await broker.stats(`${stream}/wroker`).then(() => undefined, (e: unknown) => e as Error & {exitCode: number})
    expect(error).toMatchObject({exitCode: 4})
    expect(error!.message).toContain(`${stream}/worker`)
  })

  it('a malformed queue name is a usage error (exit 2)', async () => {
    await expect(broker.stats('a.b')).rejects.toMatchObject({exitCode: 2})
    await expect(broker.stats('a/b/c')).rejects.toMatchObject({exitCode: 2})
  })

  it('a subject no stream captures is exit 4, saying so', async () => {
    const other = await openNats(`nats://127.0.0.1:4222?subject=nowhere.at.all`)
    try {
      const error = await other.enqueue(stream, [{payload: 'x'}]).then(() => undefined, (e: unknown) => e as Error & {exitCode: number})
      expect(error).toMatchObject({exitCode: 4})
      expect(error!.message).toMatch(/no stream captures subject "nowhere.at.all"/)
    } finally {
      await other.close()
    }
  })

  it('a payload over max_payload is refused (exit 2) before anything is sent', async () => {
    const before = (await conn.jsm.streams.info(stream)).state.last_seq
    const big = Buffer.alloc(1024 * 1024 + 1)
    const error = await broker
      .enqueue(stream, [{payload: 'small'}, {payload: big}])
      .then(() => undefined, (e: unknown) => e as Error & {exitCode: number})
    expect(error).toMatchObject({exitCode: 2})
    expect(error!.message).toMatch(/index 1 .*over the 1048576-byte limit.*nothing was sent/)
    expect((await conn.jsm.streams.info(stream)).state.last_seq).toBe(before)
  })

  it('delay and priority are refused with advice', async () => {
    await expect(broker.enqueue(stream, [{payload: 'x', delayMs: 1000}])).rejects.toThrow(/no scheduled or delayed messages/)
    await expect(broker.enqueue(stream, [{payload: 'x', priority: 5}])).rejects.toThrow(/second stream/)
    expect((await broker.capabilitiesOf!(stream)).maxPayloadBytes).toBe(1024 * 1024)
  })

  it('pause is refused (nats-server 2.9 has no consumer pause)', async () => {
    await expect(broker.pause!(stream)).rejects.toMatchObject({exitCode: 4})
  })
})
