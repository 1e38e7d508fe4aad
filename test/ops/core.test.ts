// The logic under the ops commands, in process on the memory broker: conditions, filters, the
// export line format, drain/move/retry/import and the audit log.
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import {afterEach, describe, expect, it} from 'vitest'
import type {Broker, Message, QueueStats} from '../../src/broker/contract.js'
import {createBroker} from '../../src/adapters/registry.js'
import {auditLogPath, writeAudit} from '../../src/services/ops/audit.js'
import {confirmDestructive} from '../../src/services/ops/confirm.js'
import {evaluate, parseCondition} from '../../src/services/ops/conditions.js'
import {compileWhere, filterToWhere} from '../../src/services/find/expression.js'
import {importMessages} from '../../src/services/ops/import.js'
import {exportLine, parseExportLine} from '../../src/services/ops/message-format.js'
import {checkDestination, moveMessages} from '../../src/services/ops/move.js'
import {retryMessages} from '../../src/services/ops/retry.js'
import {waitFor} from '../../src/services/ops/wait.js'

const stats = (counts: QueueStats['counts'], oldestAgeMs?: number): QueueStats => ({name: 'q', kind: 'memory', counts, oldestAgeMs})
const msg = (over: Partial<Message> = {}): Message => ({id: '1', queue: 'q', payload: Buffer.from('{"a":1}'), headers: {}, attempts: 0, state: 'waiting', ...over})

let n = 0
const opened: Broker[] = []
async function memory(): Promise<Broker> {
  const b = await createBroker(`memory://ops-${process.pid}-${n++}`, {timeoutMs: 1000})
  opened.push(b)
  return b
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((b) => b.close()))
})

describe('wait conditions', () => {
  it('parses empty, comparisons and "and", and evaluates them', () => {
    expect(evaluate(parseCondition('empty'), stats({waiting: 0, inflight: 0, dead: 3})).holds).toBe(true)
    expect(evaluate(parseCondition('empty'), stats({waiting: 0, inflight: 1})).holds).toBe(false)
    expect(evaluate(parseCondition('depth<100'), stats({waiting: 60, delayed: 39})).holds).toBe(true)
    expect(evaluate(parseCondition('depth<100'), stats({waiting: 60, delayed: 40})).holds).toBe(false)
    expect(evaluate(parseCondition('dead==0 and depth<=5'), stats({waiting: 5, dead: 0})).holds).toBe(true)
    expect(evaluate(parseCondition('failed == 0 && waiting < 1'), stats({waiting: 0, dead: 1})).holds).toBe(false)
    expect(evaluate(parseCondition('age<5m'), stats({waiting: 3}, 60_000)).holds).toBe(true)
    expect(evaluate(parseCondition('age<5m'), stats({waiting: 3}, 600_000)).observed).toMatch(/age 10m00s \(want <5m00s\)/)
  })

  it('refuses malformed conditions with a usage error naming the part', () => {
    expect(() => parseCondition('depth<<1')).toThrow(/is not a count|not a condition/)
    expect(() => parseCondition('bogus==0')).toThrow(/unknown metric "bogus"/)
    expect(() => parseCondition('depth<1.5')).toThrow(/not a count/)
    expect(() => parseCondition('age<soon')).toThrow(/not a duration/)
    expect(() => parseCondition('')).toThrow(/empty/)
  })

  it('fails at once (exit 4) for a missing queue, and times out when the condition never holds', async () => {
    const b = await memory()
    await expect(waitFor(b, 'nope', {condition: parseCondition('empty'), deadline: Date.now() + 5000, intervalMs: 50})).rejects.toMatchObject({exitCode: 4})
    await b.enqueue('q', [{payload: 'x'}])
    const r = await waitFor(b, 'q', {condition: parseCondition('empty'), deadline: Date.now() + 300, intervalMs: 50})
    expect(r).toMatchObject({held: false})
    expect(r.observed).toMatch(/messages 1/)
    expect(r.polls).toBeGreaterThan(1)
  })

  it('refuses a metric the broker never reports instead of waiting for ever', async () => {
    const b = await memory()
    await b.createQueue('q')
    await expect(waitFor(b, 'q', {condition: parseCondition('completed==0'), deadline: Date.now() + 5000, intervalMs: 50})).rejects.toThrow(/does not report "completed"/)
  })
})

describe('--where (CEL) and the retired --filter', () => {
  const where = async (text: string) => {
    const w = await compileWhere(text)
    return (m: Message) => w.test(m)
  }
  it('matches names, headers, the decoded body, payload text, attempts, state and age', async () => {
    expect((await where('name == "email"'))(msg({name: 'email'}))).toBe(true)
    expect((await where('name == "email"'))(msg({name: 'sms'}))).toBe(false)
    expect((await where('headers.tenant == "acme" && attempts >= 2'))(msg({headers: {tenant: 'acme'}, attempts: 2}))).toBe(true)
    expect((await where('body.a == 1 && payload.contains("a")'))(msg())).toBe(true)
    expect((await where('state in ["dead", "retry"]'))(msg({state: 'dead'}))).toBe(true)
    expect((await where('age < duration("1h")'))(msg({enqueuedAt: Date.now() - 1000}))).toBe(true)
    expect((await where('age > duration("1h")'))(msg({enqueuedAt: Date.now() - 1000}))).toBe(false)
    expect((await where('enqueuedAt > timestamp("2020-01-01T00:00:00Z")'))(msg({enqueuedAt: Date.now()}))).toBe(true)
    expect((await where('lastError.contains("timeout")'))(msg({lastError: 'a timeout'}))).toBe(true)
  })
  it('a job the expression cannot read (a missing key) does not match, and is counted', async () => {
    const w = await compileWhere('body.tenant == 42')
    expect(w.test(msg())).toBe(false)
    expect(w.test(msg({payload: Buffer.from('{"tenant":42}')}))).toBe(true)
    expect(w.failures.count).toBe(1)
    expect(w.failures.first).toMatch(/No such key: tenant/)
  })
  it('refuses a mistake before any job, with its column and an example', async () => {
    await expect(compileWhere('colour == "red"')).rejects.toThrow(/Unknown variable: colour at column 1.*fields: id, queue, name/)
    await expect(compileWhere('name = "a"')).rejects.toThrow(/at column 6/)
    await expect(compileWhere('name == 3')).rejects.toThrow(/no such overload/)
    await expect(compileWhere('name')).rejects.toThrow(/gives a string, not true or false/)
    await expect(compileWhere('  ')).rejects.toThrow(/is empty/)
  })
  it('rewrites the old --filter syntax into CEL', async () => {
    expect(filterToWhere(`headers.tenant=='acme' and payload~"a"`)).toBe(`headers.tenant=='acme' && payload.contains("a")`)
    expect((await where(filterToWhere('name!="email" AND attempts>=0')))(msg())).toBe(true)
  })
})

describe('the export line format', () => {
  it('round-trips binary payloads, headers, names and content types exactly', () => {
    const bytes = Buffer.from([0, 255, 1, 128, 10, 13, 0xc3])
    const line = exportLine(msg({payload: bytes, name: 'blob', headers: {a: 'b', 'x-death': '[]'}, contentType: 'application/octet-stream'}))
    expect(JSON.parse(line)).toMatchObject({payloadBase64: bytes.toString('base64'), name: 'blob'})
    const back = parseExportLine(line, 1)
    expect(Buffer.compare(back.payload as Buffer, bytes)).toBe(0)
    expect(back).toMatchObject({name: 'blob', contentType: 'application/octet-stream', headers: {a: 'b'}})
    expect(back.headers).not.toHaveProperty('x-death')
    const text = parseExportLine(exportLine(msg({payload: Buffer.from('héllo ✓')})), 2)
    expect((text.payload as Buffer).toString('utf8')).toBe('héllo ✓')
  })
  it('names what is wrong with a bad line', () => {
    expect(() => parseExportLine('{"payload":"abc', 7)).toThrow(/line 7: not valid JSON.*truncated/)
    expect(() => parseExportLine('{"payloadBase64":"@@@"}', 3)).toThrow(/line 3: "payloadBase64" is not valid base64/)
    expect(() => parseExportLine('{"name":"x"}', 4)).toThrow(/exactly one of "payload"/)
    expect(() => parseExportLine('[1]', 5)).toThrow(/not a JSON object/)
  })
})

describe('move, retry and import on the memory broker', () => {
  it('moves only matching messages, hands the others back, and respects --limit', async () => {
    const b = await memory()
    const w = await compileWhere('name == "email"')
    const isEmail = (m: Message) => w.test(m)
    await b.enqueue('src', [...Array(6)].map((_, i) => ({payload: `m${i}`, name: i % 2 === 0 ? 'email' : 'sms'})))
    await b.createQueue('dst')
    const r = await moveMessages(b, 'src', b, 'dst', {batchSize: 2, idleMs: 300, filter: isEmail, limit: 2})
    expect(r).toMatchObject({done: 2, failed: 0, stoppedBy: 'limit'})
    expect((await b.stats('dst')).counts.waiting).toBe(2)
    expect((await b.stats('src')).counts).toMatchObject({waiting: 4, inflight: 0})
    const rest = await moveMessages(b, 'src', b, 'dst', {batchSize: 10, idleMs: 300, filter: isEmail})
    expect(rest).toMatchObject({done: 1, stoppedBy: 'idle'})
    const names = (await b.peek('dst', {limit: 10})).map((m) => m.name)
    expect(names).toEqual(['email', 'email', 'email'])
  })

  it('refuses a missing destination before touching the source (exit 4)', async () => {
    const b = await memory()
    await b.enqueue('src', [{payload: 'x'}])
    await expect(checkDestination(b, 'nowhere', false)).rejects.toMatchObject({exitCode: 4})
    expect((await b.stats('src')).counts.waiting).toBe(1)
  })

  it("retry uses the broker's own retry", async () => {
    const b = await memory()
    await b.enqueue('q', [{payload: 'x'}])
    const sub = await b.consume('q', (lease) => void lease.deadLetter('boom'), {prefetch: 1})
    for (let i = 0; i < 100 && (await b.stats('q')).counts.dead !== 1; i++) await new Promise((r) => setTimeout(r, 20))
    await sub.close()
    const r = await retryMessages(b, 'q', {state: 'dead', batchSize: 10, idleMs: 200})
    expect(r).toMatchObject({retried: 1, via: 'broker'})
    expect((await b.stats('q')).counts).toMatchObject({waiting: 1, dead: 0})
  })

  it('import stops at a truncated line after sending everything before it; all-or-nothing sends nothing', async () => {
    const b = await memory()
    await b.createQueue('q')
    const good = [...Array(5)].map((_, i) => exportLine(msg({payload: Buffer.from(`p${i}`)})))
    const text = `${good.join('\n')}\n{"payload":"trunc`
    const streamed = await importMessages(b, 'q', () => Readable.from([text]), false, {batchSize: 2, allOrNothing: false, priority: false})
    expect(streamed.imported).toBe(5)
    expect(streamed.badLine?.line).toBe(6)
    await b.purge('q')
    const strict = await importMessages(b, 'q', () => Readable.from([text]), false, {batchSize: 2, allOrNothing: true, priority: false})
    expect(strict).toMatchObject({imported: 0, validated: 5})
    expect(strict.badLine?.line).toBe(6)
    expect((await b.stats('q')).counts.waiting).toBe(0)
  })
})

describe('the audit log', () => {
  it('lives under XDG_STATE_HOME and gets one redacted NDJSON line per call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'queuectl-audit-'))
    const path = auditLogPath({XDG_STATE_HOME: dir})
    expect(path).toBe(join(dir, 'queuectl', 'audit.log'))
    await writeAudit({command: 'purge', url: 'redis://:hunter2@127.0.0.1:6379', queue: 'q', counts: {removed: 3}}, path)
    await writeAudit({command: 'move', url: 'memory://', queue: 'q', counts: {moved: 1}}, path)
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({command: 'purge', queue: 'q', counts: {removed: 3}})
    expect(typeof lines[0]!.user).toBe('string')
    expect(Date.parse(String(lines[0]!.at))).toBeGreaterThan(0)
    expect(JSON.stringify(lines)).not.toContain('hunter2')
  })
})

describe('asking before destroying', () => {
  const tty = (answer?: string) => {
    const input = Object.assign(new PassThrough(), {isTTY: true}) as unknown as NodeJS.ReadStream
    const output = Object.assign(new PassThrough(), {isTTY: true}) as unknown as NodeJS.WriteStream
    if (answer !== undefined) setTimeout(() => (input as unknown as PassThrough).write(answer), 20)
    return {input, output}
  }
  const ask = {question: 'remove 3 waiting messages of "q"?', retryHint: 'queue purge q --yes'}

  it('goes ahead on y, stops on anything else, and never asks with --yes', async () => {
    await expect(confirmDestructive({...ask, yes: false, ...tty('y\n')})).resolves.toBe(true)
    await expect(confirmDestructive({...ask, yes: false, ...tty('\n')})).resolves.toBe(false)
    await expect(confirmDestructive({...ask, yes: false, ...tty('nope\n')})).resolves.toBe(false)
    await expect(confirmDestructive({...ask, yes: true, ...tty()})).resolves.toBe(true)
  })

  it('refuses with exit 2 when there is no terminal to ask', async () => {
    const input = new PassThrough() as unknown as NodeJS.ReadStream
    await expect(confirmDestructive({...ask, yes: false, input})).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/refusing to remove 3 waiting messages of "q" without confirmation.*queue purge q --yes/),
    })
  })
})
