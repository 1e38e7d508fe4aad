// A private redis-server on a free loopback port, for tests that must kill Redis or change its
// passwords and ACLs without touching the shared server.
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface PrivateRedis {
  port: number
  child: ChildProcess
  stop(): Promise<void>
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

export async function startRedis(extra: string[] = []): Promise<PrivateRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'queuectl-redis-'))
  // '--tls-port SELF' makes the free port the TLS port (and turns plain TCP off)
  const tls = extra.includes('SELF')
  const args = tls ? ['--port', '0', ...extra.map((a) => (a === 'SELF' ? String(port) : a))] : ['--port', String(port), ...extra]
  const child = spawn('redis-server', [...args, '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  child.on('error', () => {})
  const end = Date.now() + 15_000
  for (;;) {
    const r = tls ? {stdout: '', stderr: ''} : spawnSync('redis-cli', ['-p', String(port), 'ping'], {encoding: 'utf8'})
    if (tls ? await listening(port) : `${r.stdout}${r.stderr}`.includes('PONG') || `${r.stdout}${r.stderr}`.includes('NOAUTH')) break
    if (Date.now() > end) throw new Error(`private redis-server on ${port} did not start`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    port,
    child,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
