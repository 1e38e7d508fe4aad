import {Readable} from 'node:stream'
import {describe, expect, it} from 'vitest'
import {redactText, redactUrl, rememberSecrets} from '../../src/kernel/redact.js'
import {formatCount, formatDuration, parseDuration, parseRate, parseSize} from '../../src/kernel/units.js'
import {nearNames} from '../../src/kernel/suggest.js'
import {parseState} from '../../src/services/states.js'
import {parseHeaders, readNdjson} from '../../src/services/payloads.js'
import {parseBrokerUrl} from '../../src/adapters/registry.js'
import {colorEnabled} from '../../src/kernel/output.js'

describe('redaction', () => {
  it('masks the password of a URL and secret query parameters', () => {
    expect(redactUrl('redis://user:pa55word@host:6379/0')).toBe('redis://user:***@host:6379/0')
    expect(redactUrl('sqs://?region=eu-west-1&secretAccessKey=abc123&endpoint=http://x')).not.toContain('abc123')
    expect(redactUrl('amqp://guest@host/')).toBe('amqp://guest@host/')
  })

  it('masks URL secrets inside free text, and remembered passwords anywhere', () => {
    expect(redactText('failed: amqp://ops:t0psecret@rabbit:5672/prod refused')).toBe('failed: amqp://ops:***@rabbit:5672/prod refused')
    rememberSecrets(new URL('redis://:R3member3d@h:1'))
    expect(redactText('WRONGPASS R3member3d is wrong')).toBe('WRONGPASS *** is wrong')
  })

  it('keeps escaped control characters escaped, so a quoted URL stays on one line (found by fuzzing)', () => {
    expect(redactUrl('http://a.aa/?q=%0Ax%E2%80%A8')).toBe('http://a.aa/?q=%0Ax%E2%80%A8')
    expect(redactUrl('amqp://h/%2Fprod%20east')).toBe('amqp://h/%2Fprod east') // %2F stays: it is a vhost's slash, not a path separator
  })

  it('never throws on garbage', () => {
    for (const junk of ['', '://', '%zz', 'redis://:@', 'a'.repeat(10_000)]) expect(typeof redactUrl(junk)).toBe('string')
  })
})

describe('units', () => {
  it('formats counts as toLocaleString(\'en-US\') does', () => {
    for (const n of [0, 7, 999, 1000, 12_345.6, 999_999.5, 1_234_567, -1234, -999, 2 ** 40, NaN, Infinity, -Infinity]) {
      expect(formatCount(n), String(n)).toBe(Math.round(n).toLocaleString('en-US'))
    }
  })

  it('parses durations', () => {
    expect(parseDuration('250ms')).toBe(250)
    expect(parseDuration('5s')).toBe(5000)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('2h')).toBe(7_200_000)
    expect(parseDuration('1500')).toBe(1500)
    expect(() => parseDuration('-5s')).toThrow(/negative/)
    expect(() => parseDuration('5 parsecs')).toThrow(/not a duration/)
    expect(() => parseDuration('')).toThrow(/not a duration/)
  })

  it('parses sizes and rates', () => {
    expect(parseSize('128B')).toBe(128)
    expect(parseSize('4KiB')).toBe(4096)
    expect(parseSize('1MB')).toBe(1_000_000)
    expect(() => parseSize('big')).toThrow(/not a size/)
    expect(parseRate('5000/s')).toBe(5000)
    expect(parseRate('120/m')).toBe(2)
    expect(() => parseRate('0')).toThrow(/above zero/)
    expect(() => parseRate('fast')).toThrow(/not a rate/)
  })

  it('formats durations for tables', () => {
    expect(formatDuration(undefined)).toBe('-')
    expect(formatDuration(350)).toBe('350ms')
    expect(formatDuration(1200)).toBe('1.2s')
    expect(formatDuration(192_000)).toBe('3m12s')
    expect(formatDuration(2 * 3_600_000 + 5 * 60_000)).toBe('2h05m')
  })
})

describe('names', () => {
  it('suggests near queue names', () => {
    expect(nearNames('emails', ['email', 'emails-dlq', 'orders', 'invoices'])).toEqual(['email', 'emails-dlq'])
    expect(nearNames('zzz', ['orders'])).toEqual([])
  })

  it('maps state words onto the contract', () => {
    expect(parseState('failed')).toBe('dead')
    expect(parseState('active')).toBe('inflight')
    expect(parseState('Scheduled')).toBe('delayed')
    expect(() => parseState('lost')).toThrow(/unknown state "lost"/)
  })

  it('parses headers', () => {
    expect(parseHeaders(['a=1', 'b=x=y'])).toEqual({a: '1', b: 'x=y'})
    expect(() => parseHeaders(['novalue'])).toThrow(/key=value/)
  })
})

describe('connection URLs', () => {
  it('rejects unknown schemes and malformed URLs with a usage error', () => {
    expect(() => parseBrokerUrl('mqtt://h')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parseBrokerUrl('::')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parseBrokerUrl('  ')).toThrow(/empty/)
    expect(parseBrokerUrl('memory://').protocol).toBe('memory:')
  })

  it('never leaks a password in the error for a malformed URL', () => {
    try {
      parseBrokerUrl('kafka://u:LeakMe123@h')
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message).not.toContain('LeakMe123')
    }
  })
})

describe('NDJSON input', () => {
  it('validates everything before returning, naming the bad line', async () => {
    const input = Readable.from(['{"a":1}\n', '\n', '{"b":2}\n', 'oops\n'])
    await expect(readNdjson(input)).rejects.toThrow(/^line 4 is not valid JSON/)
  })

  it('spools a large input to disk and replays it in order', async () => {
    const n = 60_000
    const pad = 'x'.repeat(150)
    async function* gen() {
      for (let i = 0; i < n; i++) yield `{"i":${i},"pad":"${pad}"}\n`
    }
    const lines = await readNdjson(Readable.from(gen()))
    expect(lines.count).toBe(n)
    expect(lines.bytes).toBeGreaterThan(8 * 1024 * 1024) // past the spool threshold
    let expected = 0
    for await (const {text, line} of lines.lines()) {
      expect(line).toBe(expected + 1)
      expect(JSON.parse(text).i).toBe(expected++)
    }
    expect(expected).toBe(n)
    await lines.dispose()
  })

  it('refuses a line over the size limit before anything is sent', async () => {
    await expect(readNdjson(Readable.from(['{"a":1}\n', `"${'y'.repeat(100)}"\n`]), {maxBytes: 50})).rejects.toThrow(/line 2 is 102 bytes/)
  })
})

describe('colorEnabled', () => {
  const tty = {isTTY: true} as NodeJS.WriteStream
  const pipe = {isTTY: false} as NodeJS.WriteStream
  it('is on for a terminal, off for a pipe, NO_COLOR and FORCE_COLOR=0 (or false) turn it off, other FORCE_COLOR values on', () => {
    expect(colorEnabled(tty, {})).toBe(true)
    expect(colorEnabled(pipe, {})).toBe(false)
    expect(colorEnabled(tty, {NO_COLOR: '1'})).toBe(false)
    expect(colorEnabled(tty, {NO_COLOR: ''})).toBe(true)
    expect(colorEnabled(tty, {FORCE_COLOR: '0'})).toBe(false)
    expect(colorEnabled(tty, {FORCE_COLOR: 'false'})).toBe(false)
    expect(colorEnabled(pipe, {FORCE_COLOR: '1'})).toBe(true)
    expect(colorEnabled(tty, {TERM: 'dumb'})).toBe(false)
  })
})
