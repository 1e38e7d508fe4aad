// Runs the built CLI (bin/run.js) as a user would: a child process, its own env, optional stdin.
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
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

/** Every isolated home made in this test file: test/helpers/audit-check.ts checks their audit logs after the file. */
export const homesMade: Record<string, string>[] = []

/** An isolated config/state home so tests never read the developer's contexts. */
export function isolatedHome(): Record<string, string> {
  const home = mkdtempSync(join(tmpdir(), 'queuectl-test-'))
  const made = {XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), HOME: home}
  homesMade.push(made)
  return made
}

/**
 * Throws unless the audit log under this environment's state home (if any) is NDJSON: every line one
 * JSON object with command, url, queue and counts. runCli checks it after every command.
 */
export function checkAuditLog(env: Record<string, string | undefined> | undefined): void {
  const state = env?.XDG_STATE_HOME
  if (!state) return
  const path = join(state, 'queuectl', 'audit.log')
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return // no destructive command ran yet
  }
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${path}: the last line is cut short`)
  text.split('\n').filter(Boolean).forEach((line, i) => {
    let entry: Record<string, unknown>
    try {
      entry = JSON.parse(line) as Record<string, unknown>
    } catch {
      throw new Error(`${path} line ${i + 1} is not JSON: ${line}`)
    }
    for (const key of ['command', 'url', 'queue', 'counts']) {
      if (!(key in entry)) throw new Error(`${path} line ${i + 1} has no "${key}": ${line}`)
    }
  })
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
      try {
        checkAuditLog(options.env)
      } catch (error) {
        reject(new Error(`after queue ${args.join(' ')}: ${(error as Error).message}`))
        return
      }
      resolve({code, signal, stdout, stderr, ms: Date.now() - started})
    })
    child.stdin.on('error', () => {}) // the CLI may exit before reading all of stdin
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
  })
}
