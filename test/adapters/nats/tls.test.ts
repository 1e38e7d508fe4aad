// nats+tls:// against a private TLS nats-server with a throwaway CA: --tls-ca trusts it, no CA
// fails with a certificate error (exit 3), --tls-insecure connects anyway.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBroker} from '../../../src/adapters/registry.js'
import type {BrokerOptions} from '../../../src/broker/contract.js'
import {PrivateNats} from './helpers.js'

const openssl = (dir: string, args: string[]) => {
  const r = spawnSync('openssl', args, {cwd: dir, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
}

describe('nats over TLS', () => {
  let dir: string
  let server: PrivateNats
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'queuectl-nats-tls-'))
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=queuectl test CA'])
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
    spawnSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${join(dir, 'ext.cnf')}`])
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'ext.cnf'])
    server = await PrivateNats.create(['--tls', '--tlscert', join(dir, 'server.crt'), '--tlskey', join(dir, 'server.key')])
    await server.start()
  }, 60_000)
  afterAll(async () => {
    await server?.dispose()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  const tryConnect = async (options: Partial<BrokerOptions>) => {
    const broker = await createBroker(`nats+tls://127.0.0.1:${server.port}`, {timeoutMs: 5000, ...options})
    try {
      await broker.connect()
      return (await broker.listQueues()).length
    } catch (error) {
      return error as Error & {exitCode?: number}
    } finally {
      await broker.close()
    }
  }

  it('trusts a private CA given with --tls-ca', async () => {
    expect(await tryConnect({tls: {caFile: join(dir, 'ca.crt')}})).toBe(0)
  })

  it('without the CA: exit 3 with the certificate error', async () => {
    const error = await tryConnect({})
    expect(error).toMatchObject({exitCode: 3})
    expect((error as Error).message).toMatch(/certificate/i)
  })

  it('--tls-insecure connects without verifying', async () => {
    expect(await tryConnect({tls: {insecure: true}})).toBe(0)
  })
})
