// Global setup: a throwaway 3-master Redis Cluster on free loopback ports for the Redis Cluster
// tests (redis-server --cluster-enabled yes + redis-cli --cluster create), torn down afterwards.
// Tests read the seed URL with inject('redisClusterUrl'); it is '' when the cluster could not be
// started (those tests then fail saying why, other suites are unaffected).
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestProject} from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    redisClusterUrl: string
    redisClusterError: string
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

/** A port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 10_000)
    if (taken.has(port)) continue
    if ((await portFree(port)) && (await portFree(port + 10_000))) {
      taken.add(port)
      return port
    }
  }
  throw new Error('no free port pair for the test Redis Cluster')
}

function cli(args: string[]): {ok: boolean; out: string} {
  const r = spawnSync('redis-cli', args, {encoding: 'utf8', timeout: 20_000})
  return {ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`}
}

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'queuectl-cluster-'))
  const children: ChildProcess[] = []
  const teardown = async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM')
    await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : undefined)))
    rmSync(dir, {recursive: true, force: true})
  }
  try {
    const taken = new Set<number>()
    const ports = [await clusterPort(taken), await clusterPort(taken), await clusterPort(taken)]
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`,
          '--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
        {stdio: 'ignore'},
      )
      child.on('error', () => {})
      children.push(child)
    }
    for (const port of ports) await until(`redis-server on ${port}`, () => cli(['-p', String(port), 'ping']).out.includes('PONG'))
    const create = cli(['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'])
    if (!create.ok) throw new Error(`redis-cli --cluster create failed: ${create.out.slice(-300)}`)
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, () => cli(['-p', String(port), 'cluster', 'info']).out.includes('cluster_state:ok'))
    }
    project.provide('redisClusterUrl', `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(',')}`)
    project.provide('redisClusterError', '')
  } catch (error) {
    await teardown()
    project.provide('redisClusterUrl', '')
    project.provide('redisClusterError', String((error as Error).message ?? error))
    return async () => {}
  }
  return teardown
}
