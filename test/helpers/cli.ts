// Runs the built CLI (bin/run.js) as a user would: a child process, its own env, optional stdin.
import {spawn} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string | Buffer
  timeoutMs?: number
  /** Sends this signal after `afterMs` ms. */
  kill?: {signal: NodeJS.Signals; afterMs: number}
  /** Another build's bin/run.js (default: this repository's). */
  bin?: string
}

/** An isolated config/state home so tests never read the developer's contexts. */
export function isolatedHome(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'queuectl-test-'))
  return {XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), HOME: home}
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', QUEUE_URL: undefined, ...options.env}
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
    const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {env: env as NodeJS.ProcessEnv, stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    if (options.kill) setTimeout(() => child.kill(options.kill!.signal), options.kill.afterMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, ms: Date.now() - started})
    })
    child.stdin.on('error', () => {}) // the CLI may exit before reading all of stdin
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}
