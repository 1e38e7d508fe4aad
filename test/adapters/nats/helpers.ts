// NATS test helpers: a raw @nats-io/jetstream admin client, fresh work-queue streams, and a
// private nats-server (own port, own store) for auth and restart tests.
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, connect as tcpConnect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {AckPolicy, RetentionPolicy, StorageType, jetstreamManager, type JetStreamManager} from '@nats-io/jetstream'
import {connect, type NatsConnection} from '@nats-io/transport-node'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222'

export async function admin(servers = '127.0.0.1:4222'): Promise<{nc: NatsConnection; jsm: JetStreamManager}> {
  const nc = await connect({servers})
  return {nc, jsm: await jetstreamManager(nc)}
}

let n = 0
export const uniqueStream = (hint: string) => `T_${hint.replace(/[^A-Za-z0-9_-]/g, '_')}_${process.pid}_${n++}`

/** A work-queue stream capturing the subject of its name, and one durable pull consumer "worker". */
export async function makeStream(
  jsm: JetStreamManager,
  name: string,
  opts: {ackWaitMs?: number; retention?: RetentionPolicy; maxDeliver?: number; consumer?: string | false} = {},
): Promise<string> {
  await jsm.streams.add({name, subjects: [name], retention: opts.retention ?? RetentionPolicy.Workqueue, storage: StorageType.File})
  if (opts.consumer !== false) {
    await jsm.consumers.add(name, {
      durable_name: opts.consumer ?? 'worker',
      ack_policy: AckPolicy.Explicit,
      ack_wait: (opts.ackWaitMs ?? 30_000) * 1_000_000,
      max_deliver: opts.maxDeliver ?? -1,
    })
  }
  return name
}

export async function dropStream(jsm: JetStreamManager, name: string): Promise<void> {
  await jsm.streams.delete(name).catch(() => false)
  await jsm.streams.delete(`${name}_DLQ`).catch(() => false)
}

export async function openNats(url = NATS_URL): Promise<Broker> {
  const broker = await createBroker(url, {timeoutMs: 5000})
  await broker.connect()
  return broker
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as {port: number}).port
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

/** A nats-server of our own with JetStream (unless extra has '--no-js') on a free port; `start()` again after `stop()` restarts it on the same store. */
export class PrivateNats {
  private proc?: ChildProcess
  readonly dir = mkdtempSync(join(tmpdir(), 'queuectl-nats-'))
  constructor(
    readonly port: number,
    private readonly extra: string[] = [],
  ) {}

  static async create(extra: string[] = []): Promise<PrivateNats> {
    return new PrivateNats(await freePort(), extra)
  }

  async start(): Promise<void> {
    const js = this.extra.includes('--no-js') ? [] : ['-js', '-sd', this.dir]
    const extra = this.extra.filter((a) => a !== '--no-js')
    this.proc = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), ...js, ...extra], {stdio: 'ignore'})
    const until = Date.now() + 10_000
    for (;;) {
      // connect, never bind: a probe that binds the port could take it from the starting server
      const ok = await new Promise<boolean>((resolve) => {
        const socket = tcpConnect(this.port, '127.0.0.1')
        socket.once('connect', () => {
          socket.destroy()
          resolve(true)
        })
        socket.once('error', () => resolve(false))
      })
      if (ok) return
      if (this.proc.exitCode !== null) throw new Error(`nats-server on ${this.port} exited with ${this.proc.exitCode} while starting`)
      if (Date.now() > until) throw new Error(`nats-server on ${this.port} did not start`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const proc = this.proc
    if (!proc || proc.exitCode !== null) return
    const exited = new Promise((resolve) => proc.once('exit', resolve))
    proc.kill(signal)
    await exited
  }

  async dispose(): Promise<void> {
    await this.stop()
    rmSync(this.dir, {recursive: true, force: true})
  }
}
