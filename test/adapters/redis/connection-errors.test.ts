// Bad connections say what went wrong in one line, exit 3, and never print the password.
import {spawnSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBroker} from '../../../src/adapters/registry.js'
import {EnqueueError} from '../../../src/kernel/errors.js'
import {freePort, startRedis, type PrivateRedis} from './private-server.js'

const PASSWORD = 'Sekr1t-pw-7731'

async function connectError(url: string, timeoutMs = 20_000) {
  const broker = await createBroker(url, {timeoutMs})
  const started = Date.now()
  const error = await broker.connect().then(
    () => undefined,
    (e: unknown) => e as Error & {exitCode?: number},
  )
  await broker.close()
  return {error, ms: Date.now() - started}
}

describe('redis connection errors', () => {
  let server: PrivateRedis
  beforeAll(async () => {
    server = await startRedis(['--requirepass', PASSWORD])
    const acl = spawnSync('redis-cli', ['-p', String(server.port), '-a', PASSWORD, '--no-auth-warning', 'ACL', 'SETUSER', 'limited', 'on', '>limited-pw', '~*', '+@all', '-scan', '-lpush'], {
      encoding: 'utf8',
    })
    expect(acl.stdout).toContain('OK')
  })
  afterAll(async () => server?.stop())

  it('a refused port fails fast with a ConnectionError (exit 3), not after the timeout', async () => {
    const port = await freePort()
    const {error, ms} = await connectError(`redis://127.0.0.1:${port}`)
    expect(error?.exitCode).toBe(3)
    expect(error?.message).toMatch(/refused/)
    expect(ms).toBeLessThan(15_000) // the timeout is 20 s: a refusal must not wait it out
  })

  it('a wrong password names authentication and never shows the password', async () => {
    const {error} = await connectError(`redis://:wrong-${PASSWORD}@127.0.0.1:${server.port}/0`)
    expect(error?.exitCode).toBe(3)
    expect(error?.message).toMatch(/authentication failed/)
    expect(error?.message).not.toContain(PASSWORD)
  })

  it('a missing password says one is required', async () => {
    const {error} = await connectError(`redis://127.0.0.1:${server.port}`)
    expect(error?.exitCode).toBe(3)
    expect(error?.message).toMatch(/authentication required/)
  })

  it('an ACL that denies a command names the command (exit 3)', async () => {
    const broker = await createBroker(`redis://limited:limited-pw@127.0.0.1:${server.port}/0`, {timeoutMs: 5000})
    await broker.connect()
    try {
      const listing = await broker.listQueues().then(() => undefined, (e: Error & {exitCode?: number}) => e)
      expect(listing?.exitCode).toBe(3)
      expect(listing?.message).toMatch(/"scan" command/i)
      expect(listing?.message).not.toContain('limited-pw')
      const enqueue = await broker.enqueue('list:acl', [{payload: 'x'}]).then(() => undefined, (e: Error & {exitCode?: number}) => e)
      expect(enqueue?.exitCode).toBe(3)
      expect(enqueue?.message).toMatch(/"lpush" command/i)
    } finally {
      await broker.close()
    }
  })

  it('TLS to a plain port fails with a ConnectionError that suggests redis://', async () => {
    const {error} = await connectError(`rediss://:${PASSWORD}@127.0.0.1:${server.port}`, 3000)
    expect(error?.exitCode).toBe(3)
    expect(error?.message).toMatch(/TLS/)
    expect(error?.message).toMatch(/redis:\/\//)
    expect(error?.message).not.toContain(PASSWORD)
  })
})

describe('redis going away mid-enqueue', () => {
  const batch = Array.from({length: 100_000}, (_, i) => ({payload: `${i}:${'x'.repeat(500)}`}))

  it('a killed connection: EnqueueError says how many were sent, and at least that many are stored', async () => {
    const server = await startRedis()
    const url = `redis://127.0.0.1:${server.port}/0`
    const broker = await createBroker(url, {timeoutMs: 5000})
    await broker.connect()
    try {
      let killed = false
      const error = await broker
        .enqueue('list:going', batch, {
          onProgress: (sent) => {
            if (!killed && sent > 0) {
              killed = true
              spawnSync('redis-cli', ['-p', String(server.port), 'CLIENT', 'KILL', 'TYPE', 'normal'])
            }
          },
        })
        .then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(EnqueueError)
      const e = error as EnqueueError
      expect(e.exitCode).toBe(3)
      expect(e.sent).toBeGreaterThan(0)
      expect(e.sent).toBeLessThan(batch.length)
      expect(e.message).toContain(`${e.sent} of ${batch.length}`)
      const stored = Number(spawnSync('redis-cli', ['-p', String(server.port), 'LLEN', 'going'], {encoding: 'utf8'}).stdout.trim())
      expect(stored).toBeGreaterThanOrEqual(e.sent) // never claims more than Redis holds
      // the messages to re-send once Redis is back, and that it may come back (a lost connection)
      expect(e.pending).toHaveLength(batch.length - e.sent)
      expect(e.transient).toBe(true)
    } finally {
      await broker.close()
      await server.stop()
    }
  }, 60_000)

  it('a killed server: exit 3 and a partial count, never success', async () => {
    const server = await startRedis()
    const broker = await createBroker(`redis://127.0.0.1:${server.port}/0`, {timeoutMs: 5000})
    await broker.connect()
    try {
      let killed = false
      const error = await broker
        .enqueue('bullmq:going', batch.slice(0, 20_000), {
          onProgress: (sent) => {
            if (!killed && sent > 0) {
              killed = true
              server.child.kill('SIGKILL')
            }
          },
        })
        .then(() => undefined, (e: unknown) => e)
      expect(error).toBeInstanceOf(EnqueueError)
      expect((error as EnqueueError).exitCode).toBe(3)
      expect((error as EnqueueError).sent).toBeGreaterThan(0)
      expect((error as EnqueueError).sent).toBeLessThan(20_000)
    } finally {
      await broker.close()
      await server.stop()
    }
  }, 60_000)
})
