// Backoff, the --delay-ms / --fail-rate parsers, handler loading and the signal handling module.
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/kernel/errors.js'
import {handleShutdown, signalExitCode} from '../../src/cli/signals.js'
import {backoffDelay} from '../../src/kernel/backoff.js'
import {execHandler, loadHandlerFile, parseDelayRange, parseFailRate, simulate} from '../../src/runtime/handlers.js'
import type {Job} from '../../src/runtime/worker.js'

const dir = mkdtempSync(join(tmpdir(), 'queuectl-handlers-'))
const job = (payload: string): Job => ({
  message: {id: 'm1', queue: 'q', payload: Buffer.from(payload), headers: {}, attempts: 1, state: 'inflight'},
  attempt: 1,
  signal: new AbortController().signal,
})

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and jitters within the configured fraction', () => {
    const opts = {initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5}
    expect(backoffDelay(1, opts, () => 1)).toBe(100)
    expect(backoffDelay(3, opts, () => 1)).toBe(400)
    expect(backoffDelay(3, opts, () => 0)).toBe(200)
    expect(backoffDelay(10, opts, () => 1)).toBe(1000)
  })
})

describe('parsers', () => {
  it('reads delay ranges and probabilities, refusing nonsense with a usage error', () => {
    expect(parseDelayRange('10-50')).toEqual([10, 50])
    expect(parseDelayRange('25')).toEqual([25, 25])
    expect(() => parseDelayRange('50-10')).toThrow(UsageError)
    expect(() => parseDelayRange('fast')).toThrow(/10-50/)
    expect(parseFailRate('0.05')).toBe(0.05)
    expect(() => parseFailRate('5%')).toThrow(/between 0 and 1/)
    expect(() => parseFailRate('1.5')).toThrow(UsageError)
  })
})

describe('handlers', () => {
  it('loads a default-exported function and a named `handler`', async () => {
    writeFileSync(join(dir, 'a.mjs'), 'export default async (job) => job.message.payload.toString().toUpperCase()\n')
    writeFileSync(join(dir, 'b.mjs'), 'export function handler(job) { return job.attempt }\n')
    expect(await (await loadHandlerFile(join(dir, 'a.mjs')))(job('hi'))).toBe('HI')
    expect(await (await loadHandlerFile(join(dir, 'b.mjs')))(job('x'))).toBe(1)
  })

  it('loads a TypeScript handler through tsx', async () => {
    writeFileSync(join(dir, 'c.ts'), 'export default (job: {attempt: number}): number => job.attempt + 41\n')
    expect(await (await loadHandlerFile(join(dir, 'c.ts')))(job('x'))).toBe(42)
  })

  it('refuses a module that throws at import, or exports no function, with one usage line', async () => {
    writeFileSync(join(dir, 'bad.mjs'), 'throw new Error("cannot start")\n')
    writeFileSync(join(dir, 'none.mjs'), 'export const x = 1\n')
    await expect(loadHandlerFile(join(dir, 'bad.mjs'))).rejects.toThrow(/failed to load: cannot start/)
    await expect(loadHandlerFile(join(dir, 'bad.mjs'))).rejects.toBeInstanceOf(UsageError)
    await expect(loadHandlerFile(join(dir, 'none.mjs'))).rejects.toThrow(/exports no function/)
    await expect(loadHandlerFile(join(dir, 'missing.js'))).rejects.toThrow(/no such file/)
    await expect(loadHandlerFile(join(dir, 'x.py'))).rejects.toThrow(/cannot load ".py"/)
  })

  it('pipes the payload to --exec and maps the exit code to success or failure', async () => {
    await expect(execHandler('cat')(job('payload-1'))).resolves.toBe('payload-1')
    await expect(execHandler('echo oops >&2; exit 3')(job('x'))).rejects.toThrow(/code 3: oops/)
  })

  it('simulates failures at the given rate', async () => {
    const always = simulate(() => 'ok', {failRate: 1})
    await expect(Promise.resolve(always(job('x')))).rejects.toThrow(/simulated failure/)
    const never = simulate(() => 'ok', {failRate: 0, delayMs: [1, 2]})
    await expect(Promise.resolve(never(job('x')))).resolves.toBe('ok')
  })
})

describe('handleShutdown', () => {
  it('aborts gracefully on the first signal, forces on the second, and reports 128+n', () => {
    const handle = handleShutdown({forceExitAfterMs: 0})
    try {
      expect(handle.exitCode).toBeUndefined()
      process.emit('SIGTERM')
      expect(handle.graceful.aborted).toBe(true)
      expect(handle.graceful.reason).toBe('SIGTERM')
      expect(handle.force.aborted).toBe(false)
      expect(handle.exitCode).toBe(143)
      process.emit('SIGINT')
      expect(handle.force.aborted).toBe(true)
      expect(handle.exitCode).toBe(143)
    } finally {
      handle.dispose()
      handle.dispose()
    }
    expect(signalExitCode('SIGINT')).toBe(130)
  })
})
