// rediss:// against a private TLS Redis with a throwaway CA: --tls-ca trusts it, no CA fails with
// a certificate error (exit 3), --tls-insecure connects anyway (the dangerous escape hatch).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {createBroker} from '../../../src/adapters/registry.js'
import type {BrokerOptions} from '../../../src/broker/contract.js'
import {startRedis, type PrivateRedis} from './private-server.js'

const openssl = (dir: string, args: string[]) => {
  const r = spawnSync('openssl', args, {cwd: dir, encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`)
}

describe('redis over TLS', () => {
  let dir: string
  let server: PrivateRedis
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'queuectl-tls-'))
    openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=queuectl test CA'])
    openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'])
    const ext = join(dir, 'ext.cnf')
    spawnSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${ext}`])
    openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', ext])
    // the private server's port becomes its TLS port; plain TCP is off
    server = await startRedis(['--tls-cert-file', join(dir, 'server.crt'), '--tls-key-file', join(dir, 'server.key'), '--tls-ca-cert-file', join(dir, 'ca.crt'), '--tls-auth-clients', 'no', '--tls-port', 'SELF'])
  }, 60_000)
  afterAll(async () => {
    await server?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  const tryConnect = async (options: Partial<BrokerOptions>) => {
    const broker = await createBroker(`rediss://127.0.0.1:${server.port}/0`, {timeoutMs: 5000, ...options})
    try {
      await broker.connect()
      await broker.enqueue('list:tls', [{payload: 'secure'}])
      return (await broker.stats('list:tls')).counts.waiting
    } catch (error) {
      return error as Error & {exitCode?: number}
    } finally {
      await broker.close()
    }
  }

  it('trusts a private CA given with --tls-ca', async () => {
    expect(await tryConnect({tls: {caFile: join(dir, 'ca.crt')}})).toBeGreaterThanOrEqual(1)
  })

  it('without the CA it fails on the certificate (exit 3)', async () => {
    const error = (await tryConnect({})) as Error & {exitCode?: number}
    expect(error.exitCode).toBe(3)
    expect(error.message).toMatch(/TLS|certificate/i)
  })

  it('--tls-insecure connects without verification', async () => {
    expect(await tryConnect({tls: {insecure: true}})).toBeGreaterThanOrEqual(1)
  })
})
