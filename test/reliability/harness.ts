// Fault-injection harness for the reliability tests: a private Redis with AOF, a private RabbitMQ
// node, a loopback TCP proxy that can stall or drop, and long-running CLI children. Everything
// here is the test's own: the shared brokers on :6379 and :5672 are never touched.
import {spawn, execFile, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {BIN as REPO_BIN, runCli, type CliOptions, type CliResult} from '../helpers/cli.js'

// QUEUECTL_BIN points the tests at another build (a snapshot while others rebuild dist/).
export const BIN = process.env.QUEUECTL_BIN ?? REPO_BIN

const run = promisify(execFile)
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls until `check` returns a truthy value or the deadline passes (then throws `what`). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value as NonNullable<T>
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** A loopback port that is free now. Kept below the ephemeral range so an outgoing connection cannot hold it. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer()
      s.once('error', () => resolve(false))
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
    })
    if (ok) return port
  }
  throw new Error('no free loopback port found')
}

// ---------------------------------------------------------------- Redis with AOF, ours to kill

export class PrivateRedis {
  readonly dir = mkdtempSync(join(tmpdir(), 'qctl-rel-redis-'))
  child?: ChildProcess
  constructor(readonly port: number, readonly password?: string) {}

  get url(): string {
    return this.password ? `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}` : `redis://127.0.0.1:${this.port}`
  }

  async start(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', this.dir]
    if (this.password) args.push('--requirepass', this.password)
    this.child = spawn('redis-server', args, {stdio: 'ignore'})
    await until(() => this.ping(), `redis-server on :${this.port}`, 20_000, 100)
  }

  async ping(): Promise<boolean> {
    try {
      const auth = this.password ? ['-a', this.password, '--no-auth-warning'] : []
      const {stdout} = await run('redis-cli', ['-p', String(this.port), ...auth, 'PING'], {timeout: 2000})
      return stdout.trim() === 'PONG'
    } catch {
      return false
    }
  }

  async cli(...args: string[]): Promise<string> {
    const auth = this.password ? ['-a', this.password, '--no-auth-warning'] : []
    const {stdout} = await run('redis-cli', ['-p', String(this.port), ...auth, ...args], {timeout: 10_000})
    return stdout.trim()
  }

  /** SIGKILL: a crash, not a shutdown. With appendfsync always every acknowledged write is on disk. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill(signal)
    await exited
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM')
    rmSync(this.dir, {recursive: true, force: true})
  }
}

// ---------------------------------------------------------------- a private RabbitMQ node

const RMQ_BIN = '/usr/lib/rabbitmq/bin'

/**
 * A RabbitMQ node of the test's own (own name, ports, data dir and cookie), so stop_app/start_app
 * knock out nobody else's tests. The Debian wrappers in /usr/sbin switch to the rabbitmq user and
 * its cookie; the scripts in /usr/lib/rabbitmq/bin run as us with HOME (and so the cookie) in our dir.
 */
export class PrivateRabbit {
  readonly dir = mkdtempSync(join(tmpdir(), 'qctl-rel-rmq-'))
  readonly node: string
  constructor(readonly port: number, readonly distPort: number) {
    this.node = `qctl-rel-${process.pid}-${port}@localhost`
  }

  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`
  }

  private env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: join(this.dir, 'home'),
      RABBITMQ_NODENAME: this.node,
      RABBITMQ_DIST_PORT: String(this.distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_PID_FILE: join(this.dir, 'pid'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
    }
  }

  static available(): boolean {
    return existsSync(`${RMQ_BIN}/rabbitmq-server`)
  }

  async ctl(...args: string[]): Promise<string> {
    const {stdout} = await run(`${RMQ_BIN}/rabbitmqctl`, ['-n', this.node, ...args], {env: this.env(), timeout: 90_000, cwd: this.dir})
    return stdout
  }

  async start(): Promise<void> {
    for (const d of ['home', 'mnesia', 'log']) mkdirSync(join(this.dir, d), {recursive: true})
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n')
    writeFileSync(join(this.dir, 'rabbitmq.conf'), `listeners.tcp.local = 127.0.0.1:${this.port}\nloopback_users = none\n`)
    await run(`${RMQ_BIN}/rabbitmq-server`, ['-detached'], {env: this.env(), timeout: 30_000, cwd: this.dir})
    await this.ctl('wait', join(this.dir, 'pid'), '--timeout', '90')
  }

  stopApp = () => this.ctl('stop_app')
  startApp = () => this.ctl('start_app')

  async stop(): Promise<void> {
    await this.ctl('stop').catch(() => {})
    rmSync(this.dir, {recursive: true, force: true})
  }
}


// ---------------------------------------------------------------- a TCP proxy that misbehaves

export type ProxyMode = 'pass' | 'stall' | 'drop'

interface Pair {
  client: Socket
  upstream?: Socket
}

/**
 * Forwards loopback connections to `target`. `stall` is a black-holed network: bytes stop flowing
 * both ways (buffered, not lost, as TCP would retransmit them) and new connections are accepted but
 * not answered; `drop` resets every connection at once and every new one. Back to `pass`, held
 * connections are connected and stalled ones flow again.
 */
export class FaultProxy {
  private server?: Server
  private readonly pairs = new Set<Pair>()
  mode: ProxyMode = 'pass'
  port = 0
  accepted = 0
  constructor(readonly targetPort: number) {}

  async start(port = 0): Promise<void> {
    this.server = createServer((client) => this.accept(client))
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve))
    this.port = (this.server.address() as {port: number}).port
  }

  private accept(client: Socket): void {
    this.accepted++
    const pair: Pair = {client}
    this.pairs.add(pair)
    client.on('error', () => {})
    client.on('close', () => {
      pair.upstream?.destroy()
      this.pairs.delete(pair)
    })
    if (this.mode === 'drop') return void client.resetAndDestroy()
    client.pause()
    if (this.mode === 'pass') this.link(pair)
  }

  private link(pair: Pair): void {
    const upstream = connect(this.targetPort, '127.0.0.1')
    pair.upstream = upstream
    upstream.on('error', () => pair.client.destroy())
    upstream.on('close', () => pair.client.destroy())
    pair.client.pipe(upstream)
    upstream.pipe(pair.client)
    pair.client.resume()
  }

  set(mode: ProxyMode): void {
    this.mode = mode
    for (const p of this.pairs) {
      if (mode === 'drop') {
        p.client.resetAndDestroy()
        p.upstream?.destroy()
      } else if (mode === 'stall') {
        p.client.pause()
        p.upstream?.pause()
      } else if (!p.upstream) {
        this.link(p)
      } else {
        p.client.resume()
        p.upstream.resume()
      }
    }
  }

  get connections(): number {
    return this.pairs.size
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy()
      p.upstream?.destroy()
    }
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

// ---------------------------------------------------------------- long-running CLI children

export interface Running {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

const children = new Set<ChildProcess>()

/** Kills every child startCli started that is still running (afterAll: a failed test leaves none behind). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  children.clear()
}

/** Starts `queue ARGS` through bin/run.js and keeps its output; the test decides when to kill it. */
export function startCli(args: string[], env: Record<string, string | undefined>, nodeArgs: string[] = []): Running {
  const full: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', QUEUE_URL: undefined, ...env}
  for (const k of Object.keys(full)) if (full[k] === undefined) delete full[k]
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {env: full as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe']})
  children.add(child)
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) =>
    child.on('close', (code, signal) => resolve({code, signal})),
  )
  return {child, stdout: () => out, stderr: () => err, exited}
}

/** Runs `queue ARGS` to the end through BIN above (test/helpers/cli.ts runCli). */
export function runQ(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return runCli(args, {...options, bin: BIN})
}

/** NDJSON lines of `queue work --json` as objects (partial last lines skipped). */
export function workEvents(stdout: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = []
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue
    try {
      out.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a line cut by kill -9
    }
  }
  return out
}

/** Sequence numbers from completed events whose payload is {"seq":N,...}. */
export function completedSeqs(stdout: string): number[] {
  const seqs: number[] = []
  for (const e of workEvents(stdout)) {
    if (e.event !== 'completed') continue
    const m = /"seq":(\d+)/.exec(String(e.payload))
    if (m) seqs.push(Number(m[1]))
  }
  return seqs
}

/** Lost and duplicated sequence numbers of 0..sent-1 among `seen`. */
export function ledger(sent: number, seen: number[]): {sent: number; received: number; unique: number; lost: number[]; duplicated: number} {
  const count = new Uint32Array(sent)
  let foreign = 0
  for (const s of seen) {
    if (s < sent) count[s]!++
    else foreign++
  }
  const lost: number[] = []
  let duplicated = foreign
  let unique = 0
  for (let i = 0; i < sent; i++) {
    if (count[i] === 0) lost.push(i)
    else unique++
    if (count[i]! > 1) duplicated += count[i]! - 1
  }
  return {sent, received: seen.length, unique, lost, duplicated}
}

/** NDJSON of {"seq":from..to-1} payloads for `queue enqueue` on stdin. */
export function numbered(from: number, to: number, pad = 0): string {
  const filler = pad > 0 ? `,"pad":"${'x'.repeat(pad)}"` : ''
  let s = ''
  for (let i = from; i < to; i++) s += `{"seq":${i}${filler}}\n`
  return s
}

// ---------------------------------------------------------------- direct broker access (setup only)

/** Runs `fn` with a connected adapter (to create or delete a test queue), then closes it. */
export async function withBroker<T>(url: string, fn: (broker: import('../../src/broker/contract.js').Broker) => Promise<T>): Promise<T> {
  const {openBroker} = await import('../../src/adapters/registry.js')
  const broker = await openBroker(url, {timeoutMs: 10_000})
  try {
    return await fn(broker)
  } finally {
    await broker.close()
  }
}

export const uniqueName = (prefix: string) => `qctl-rel-${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
