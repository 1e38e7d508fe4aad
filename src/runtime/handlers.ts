// Where a job's work comes from: a module exporting a function (--handler), a shell command fed the
// payload on stdin (--exec), or a simulation of flaky, slow work (--fail-rate, --delay-ms).
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {extname, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'
import {UsageError} from '../kernel/errors.js'
import type {Job, JobHandler} from './worker.js'

const LOADABLE = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'])

/**
 * Imports a handler module: its default export (or a named `handler`) must be a function
 * `(job) => result | Promise<result>`. TypeScript files load through tsx's register API when tsx
 * is installed (it is a devDependency of most TS projects); otherwise they are refused clearly.
 */
export async function loadHandlerFile(file: string, cwd = process.cwd()): Promise<JobHandler> {
  const path = resolve(cwd, file)
  const ext = extname(path).toLowerCase()
  if (!LOADABLE.has(ext)) throw new UsageError(`--handler ${file}: cannot load "${ext || 'no extension'}" files — give a .js, .mjs, .cjs or .ts module`)
  if (!existsSync(path)) throw new UsageError(`--handler ${file}: no such file (looked at ${path})`)
  const isTs = ext === '.ts' || ext === '.mts' || ext === '.cts'
  const load = isTs ? await typeScriptLoader(file) : (url: string) => import(url)
  let mod: Record<string, unknown>
  try {
    mod = (await load(pathToFileURL(path).href)) as Record<string, unknown>
  } catch (error) {
    const why = oneLine(error)
    throw new UsageError(`--handler ${file} failed to load: ${why} — fix the module so it imports cleanly (try: node ${file})`)
  }
  const candidate = pickFunction(mod)
  if (!candidate) {
    throw new UsageError(
      `--handler ${file} exports no function — add \`export default async function (job) { … }\` (job.message.payload is a Buffer, job.message.body the decoded JSON)`,
    )
  }
  return candidate
}

function pickFunction(mod: Record<string, unknown>): JobHandler | undefined {
  const def = mod.default as Record<string, unknown> | ((job: Job) => unknown) | undefined
  if (typeof def === 'function') return def as JobHandler
  if (typeof mod.handler === 'function') return mod.handler as JobHandler
  // CommonJS `module.exports = {handler}` or a transpiled `exports.default`
  if (def && typeof def === 'object') {
    if (typeof def.default === 'function') return def.default as JobHandler
    if (typeof def.handler === 'function') return def.handler as JobHandler
  }
  return undefined
}

/** tsx's tsImport loads one file (and what it imports) as TypeScript without a global hook. */
async function typeScriptLoader(file: string): Promise<(url: string) => Promise<unknown>> {
  try {
    const api = (await import('tsx/esm/api' as string)) as {tsImport: (url: string, parent: string) => Promise<unknown>}
    return (url) => api.tsImport(url, import.meta.url)
  } catch {
    throw new UsageError(
      `--handler ${file}: loading TypeScript needs tsx — install it (npm i -D tsx) or compile the handler to .js/.mjs`,
    )
  }
}

function oneLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}` : String(error)
  return text.split('\n')[0]!.trim().slice(0, 300)
}

/** Runs `command` in a shell once per job with the payload on stdin; exit code 0 = success. */
export function execHandler(command: string, env: NodeJS.ProcessEnv = process.env): JobHandler {
  return (job) =>
    new Promise<string>((resolvePromise, reject) => {
      const child = spawn(command, {
        shell: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...env,
          QUEUE_MESSAGE_ID: job.message.id,
          QUEUE_NAME: job.message.queue,
          QUEUE_ATTEMPT: String(job.attempt),
        },
        signal: job.signal,
      })
      let stdout = ''
      let stderr = ''
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout = (stdout + d).slice(-64 * 1024)))
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4096)))
      child.on('error', (error) => reject(error))
      child.on('close', (code, signal) => {
        if (code === 0) return resolvePromise(stdout)
        const last = stderr.trim().split('\n').pop()?.trim()
        reject(new Error(`command exited with ${signal ?? `code ${code}`}${last ? `: ${last.slice(0, 200)}` : ''}`))
      })
      child.stdin.on('error', () => {}) // the command may not read its stdin
      child.stdin.end(job.message.payload)
    })
}

export interface Simulation {
  /** Probability 0..1 that a job fails. */
  failRate?: number
  /** Each job sleeps a uniform random time in [min, max] ms. */
  delayMs?: [number, number]
}

/** "10-50" or "25" → [min, max] ms. */
export function parseDelayRange(text: string, what = '--delay-ms'): [number, number] {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?))?\s*$/.exec(text)
  if (!m) throw new UsageError(`${what} "${text}" is not a delay — write it as milliseconds, 25, or a range, 10-50`)
  const min = Number(m[1])
  const max = m[2] === undefined ? min : Number(m[2])
  if (max < min) throw new UsageError(`${what} "${text}": the range's end is below its start — write it as 10-50`)
  return [min, max]
}

export function parseFailRate(text: string, what = '--fail-rate'): number {
  const n = Number(text)
  if (!/^\s*\d*\.?\d+\s*$/.test(text) || !(n >= 0 && n <= 1)) {
    throw new UsageError(`${what} "${text}" must be a probability between 0 and 1, e.g. 0.05 for 5%`)
  }
  return n
}

/** Wraps a handler with simulated latency and failures (for testing retry and DLQ setups). */
export function simulate(handler: JobHandler, options: Simulation): JobHandler {
  const failRate = options.failRate ?? 0
  const [min, max] = options.delayMs ?? [0, 0]
  if (failRate <= 0 && max <= 0) return handler
  return async (job) => {
    if (max > 0) await sleep(min + Math.random() * (max - min), job.signal)
    if (failRate > 0 && Math.random() < failRate) throw new Error('simulated failure (--fail-rate)')
    return handler(job)
  }
}

/** A sleep that ends early (rejecting) when the job's signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolvePromise()
    }, ms)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}
