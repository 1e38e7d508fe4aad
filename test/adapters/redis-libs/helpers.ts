// Shared by the job-library interop tests: their Redis databases, the real libraries (Debian's
// python3-celery, python3-rq and ruby-sidekiq on /usr/bin/python3 and /usr/bin/ruby — the pyenv
// python3 on PATH lacks them), bounded worker processes, and polling.
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'

export const REDIS_HOST = process.env.QUEUECTL_TEST_REDIS ?? '127.0.0.1:6379'
/** One database per library, used by these tests only (others use 0 and 9–13); never flushed. */
export const LIB_DB = {celery: 5, sidekiq: 6, rq: 7, asynq: 8} as const
export const libUrl = (db: number, query = '') => `redis://${REDIS_HOST}/${db}${query}`

export const PYTHON = '/usr/bin/python3'
export const RUBY = '/usr/bin/ruby'
export const INTEROP_DIR = fileURLToPath(new URL('../../interop/', import.meta.url))

export const execFileP = promisify(execFile)

/** True when `code` runs (the library is importable). */
export async function canRun(cmd: string, args: string[]): Promise<boolean> {
  if (!existsSync(cmd)) return false
  return execFileP(cmd, args, {timeout: 30_000}).then(() => true, () => false)
}

export async function openLib(db: number, query = ''): Promise<Broker> {
  const broker = await createBroker(libUrl(db, query), {timeoutMs: 5000})
  await broker.connect()
  return broker
}

/** A unique queue name for this run. */
let seq = 0
export function uniqueName(hint: string): string {
  return `qctl-${hint}-${process.pid}-${Date.now().toString(36)}-${seq++}`
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(100)
  }
}

/** Runs a helper script and parses the last line of its output as JSON. */
export async function runJson<T>(cmd: string, args: string[], env: Record<string, string> = {}): Promise<T> {
  const {stdout} = await execFileP(cmd, args, {env: {...process.env, ...env}, timeout: 60_000, cwd: INTEROP_DIR, maxBuffer: 16 * 1024 * 1024})
  const lines = stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]!) as T
}

/**
 * A library worker, started under coreutils `timeout` so it dies on its own even if the test
 * process does not get to kill it. Collects its output for failure messages.
 */
export class Worker {
  readonly child: ChildProcess
  log = ''
  constructor(cmd: string, args: string[], env: Record<string, string>, maxSeconds = 240) {
    this.child = spawn('timeout', ['-k', '5', String(maxSeconds), cmd, ...args], {cwd: INTEROP_DIR, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()))
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()))
  }
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null
  }
  /** SIGTERM (the libraries shut down cleanly on it), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.exited) return
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.kill('SIGTERM')
    const hard = setTimeout(() => this.child.kill('SIGKILL'), 10_000)
    await done
    clearTimeout(hard)
  }
  tail(n = 2000): string {
    return this.log.slice(-n)
  }
}
