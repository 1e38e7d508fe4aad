// Refusals are written once: the guard (src/broker/kit/guard.ts) refuses what a queue cannot do,
// the flavored kit refuses a flavor's missing method, and `capabilitiesFor` is the one fallback
// from a queue's capabilities to the broker's. Read off the sources: an adapter that writes its
// own capability refusal, or a caller that writes the fallback again, fails here.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {describe, expect, it} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'

const SRC = new URL('../../src/', import.meta.url).pathname

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

/** Where refusals and the fallback may be written. */
const KIT = /^broker\/(kit\/|capabilities\.ts$)/

/** A call of `refuse(` (the capability refusal) or an import of it. */
const REFUSE = /\brefuse\(|import\s*\{[^}]*\brefuse\b[^}]*\}/
/** `capabilitiesOf(q).catch(() => …capabilitiesOf())`: the fallback written by hand. */
const FALLBACK = /capabilitiesOf\([^)]*\)\s*\.catch\(\s*(?:async\s*)?\(\)\s*=>\s*[\w.]*capabilitiesOf\(\)/
/** An operation whose body only refuses: `async pause(q) { [await …] throw new NotSupportedError(` */
const REFUSING_METHOD = /async\s+(?:pause|resume|retry|createQueue|deleteQueue)\s*\([^)]*\)[^{]*\{\s*(?:(?:await|return)\s[^\n]*\n\s*)?throw\s+(?:new\s+NotSupportedError|refuse)\b/

function offenders(rule: RegExp, where: (file: string) => boolean): string[] {
  return sources(SRC)
    .map((file) => relative(SRC, file))
    .filter((file) => where(file) && rule.test(readFileSync(join(SRC, file), 'utf8')))
}

describe('refusals are written once, in the kit', () => {
  it('the rules catch what they are meant to catch', () => {
    expect(REFUSE.test("throw refuse('pause', `queue \"q\"`, caps)")).toBe(true)
    expect(REFUSE.test("import {DRIVEN_QUEUE, refuse} from '../../broker/capabilities.js'")).toBe(true)
    expect(REFUSE.test('const refused = this.refusals.get(kind)')).toBe(false)
    expect(FALLBACK.test('await broker.capabilitiesOf(queue).catch(() => broker.capabilitiesOf())')).toBe(true)
    expect(FALLBACK.test('await this.broker.capabilitiesOf(this.queue).catch(async () => this.broker.capabilitiesOf())')).toBe(true)
    expect(FALLBACK.test('await broker.capabilitiesOf(queue).catch(() => undefined)')).toBe(false)
    expect(REFUSING_METHOD.test('async pause(queue: string): Promise<void> {\n    throw new NotSupportedError(`${queue}: no`)\n  }')).toBe(true)
    expect(REFUSING_METHOD.test('async pause(queue: string): Promise<void> {\n    await this.dir.info(queue)\n    throw refuse(\'pause\', q, caps)\n  }')).toBe(true)
    expect(REFUSING_METHOD.test('async pause(queue: string): Promise<void> {\n    await this.client.pause(queue)\n  }')).toBe(false)
  })

  it('no adapter (nor anything else outside src/broker/kit) writes a capability refusal', () => {
    expect(offenders(REFUSE, (f) => !KIT.test(f))).toEqual([])
  })

  it('no adapter writes an operation that only refuses: it leaves the method out and the guard refuses', () => {
    expect(offenders(REFUSING_METHOD, (f) => f.startsWith('adapters/'))).toEqual([])
  })

  it('the fallback to the broker-wide capabilities is capabilitiesFor, written nowhere else', () => {
    expect(offenders(FALLBACK, (f) => f !== 'broker/kit/guard.ts')).toEqual([])
  })

  it('the guard refuses a missing operation with the advice, after the existence check', async () => {
    const broker = await createBroker('memory://refusals-unit', {timeoutMs: 1000})
    await expect(broker.pause('nowhere')).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/no queue "nowhere"|not found/)})
    await broker.createQueue('q')
    await expect(broker.resume('q')).rejects.toMatchObject({exitCode: 4, message: 'memory queue "q" cannot be paused or resumed — stop its consumers instead'})
    await expect(broker.peek('q', {limit: 0, state: 'retry'})).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/keeps no "retry" messages/)})
    expect(await broker.peek('q', {limit: 0})).toEqual([])
    await expect(broker.peek('nowhere', {limit: 0})).rejects.toMatchObject({exitCode: 4})
    await broker.deleteQueue('q')
    await broker.close()
  })
})
