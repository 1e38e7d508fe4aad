// Issue 21, the output side: one redaction over parsed URLs (every credential form of every
// transport) and one terminal escaper for every byte that comes from a broker.
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {redactText, redactUrl, redactValue, rememberSecret} from '../../src/kernel/redact.js'
import {jsonEscaped, safeBlock, safeLine, safeOutput} from '../../src/kernel/terminal.js'
import {ndjsonLine, renderTable} from '../../src/kernel/output.js'
import {writeAudit} from '../../src/services/ops/audit.js'
import '../../src/adapters/registry.js' // declares which schemes' user part is a token

describe('redactUrl: every credential form', () => {
  it.each([
    ['redis://user:pw-S3cr3t@h:6379/0', 'redis://user:***@h:6379/0'],
    ['rediss://:pw-S3cr3t@h:6380', 'rediss://:***@h:6380'],
    ['amqps://ops:pw-S3cr3t@rabbit/prod', 'amqps://ops:***@rabbit/prod'],
    ['nats://pw-S3cr3t@127.0.0.1:4222', 'nats://***@127.0.0.1:4222'],
    ['nats+tls://pw-S3cr3t@n1:4222', 'nats+tls://***@n1:4222'],
    ['nats://app:pw-S3cr3t@n1:4222', 'nats://app:***@n1:4222'],
    ['postgres://app@db/jobs?password=pw-S3cr3t&schema=x', 'postgres://app@db/jobs?password=***&schema=x'],
    ['sqs://AKID:pw-S3cr3t@127.0.0.1:4566?region=x', 'sqs://AKID:***@127.0.0.1:4566?region=x'],
    ['redis://h/0?token=pw-S3cr3t&secret=pw-S3cr3t&sslpassword=no', 'redis://h/0?token=***&secret=***&sslpassword=no'],
  ])('%s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown)
  })

  it('a URL inside a parameter is redacted as a URL', () => {
    expect(redactUrl('sqs://?endpoint=http://k:pw-S3cr3t@127.0.0.1:4566')).toMatch(/^sqs:\/\/\?endpoint=http.*k.*\*\*\*.*127\.0\.0\.1/)
    expect(redactUrl('sqs://?endpoint=http://k:pw-S3cr3t@127.0.0.1:4566')).not.toContain('pw-S3cr3t')
  })

  it('a user name without a password stays where it is a user name (redis, amqp, postgres)', () => {
    expect(redactUrl('amqp://guest@host/')).toBe('amqp://guest@host/')
    expect(redactUrl('postgres://root@127.0.0.1/db')).toBe('postgres://root@127.0.0.1/db')
  })

  it('a URL the parser refuses (several nats seeds) still has its token or password masked', () => {
    expect(redactUrl('nats://pw-S3cr3t@n1:4222,n2:4222')).toBe('nats://***@n1:4222,n2:4222')
    expect(redactUrl('redis+cluster://u:pw-S3cr3t@n1:1,n2:2')).toBe('redis+cluster://u:***@n1:1,n2:2')
  })
})

describe('redactText: each URL parsed on its own', () => {
  it('two URLs in one text: the first without a user, the second with one (the audit corruption)', () => {
    const text = 'moved from redis://127.0.0.1:6379/0 to amqp://u:pw-S3cr3t@127.0.0.1:5672/nc — 5 moved'
    expect(redactText(text)).toBe('moved from redis://127.0.0.1:6379/0 to amqp://u:***@127.0.0.1:5672/nc — 5 moved')
    const joined = JSON.stringify({url: 'redis://127.0.0.1:6379/0', queue: 'q', to: 'amqp://u:***@127.0.0.1:5672/nc'})
    expect(redactText(joined)).toBe(joined)
  })

  it('a token in free text, and a secret given outside any URL (SQS key from the environment)', () => {
    expect(redactText('connect nats://pw-S3cr3t@h:4222 failed')).toBe('connect nats://***@h:4222 failed')
    rememberSecret('Env-AWS-S3cr3t')
    expect(redactText('signature for Env-AWS-S3cr3t')).toBe('signature for ***')
  })

  it('redactValue keeps the structure and redacts each string', () => {
    expect(redactValue({a: ['x nats://tok-S3cr3t@h'], n: 3, b: null})).toEqual({a: ['x nats://***@h'], n: 3, b: null})
    expect(JSON.parse(ndjsonLine({url: 'redis://h:1/0', to: 'amqp://u:p-S3cr3t@h/x'}))).toEqual({url: 'redis://h:1/0', to: 'amqp://u:***@h/x'})
  })
})

describe('the audit log: one valid JSON line whatever the URLs', () => {
  it('move from a URL without user@ to a --to-url with one keeps queue, counts and destination', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'qctl-audit-')), 'audit.log')
    await writeAudit(
      {command: 'move', url: 'redis://127.0.0.1:6379/0', queue: 'list:src', counts: {moved: 4, failed: 0}, details: {to: 'nc', toUrl: 'amqp://guest:pw-S3cr3t@127.0.0.1:5672/nc'}},
      path,
    )
    const text = readFileSync(path, 'utf8')
    expect(text).not.toContain('pw-S3cr3t')
    const line = JSON.parse(text.trim()) as Record<string, unknown>
    expect(line).toMatchObject({command: 'move', url: 'redis://127.0.0.1:6379/0', queue: 'list:src', counts: {moved: 4, failed: 0}, details: {to: 'nc', toUrl: 'amqp://guest:***@127.0.0.1:5672/nc'}})
  })
})

const NASTY = ['osc52 \u001b]52;c;aGk=\u0007', 'clear \u001b[2J', 'bel \u0007', 'c1 csi \u009b31m', 'bidi \u202eevil', 'del \u007f']

describe('terminal escaping: broker bytes never reach the terminal raw', () => {
  it('safeLine escapes every control character, newline and tab too', () => {
    expect(safeLine('a\u001b]52;c;aGk=\u0007b')).toBe('a\\x1b]52;c;aGk=\\x07b')
    expect(safeLine('x\u009b2Jy\u202ez\n\t\r\u007f')).toBe('x\\x9b2Jy\\u202ez\\n\\t\\r\\x7f')
    for (const s of NASTY) expect(safeLine(s)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/)
  })

  it('safeBlock keeps newlines and tabs (a multi-line payload view)', () => {
    expect(safeBlock('{\n\t"a": "\u001b[2J"\n}')).toBe('{\n\t"a": "\\x1b[2J"\n}')
  })

  it('safeOutput keeps our colour codes and escapes the rest', () => {
    expect(safeOutput('\u001b[1mname\u001b[22m \u001b]52;c;x\u0007')).toBe('\u001b[1mname\u001b[22m \\x1b]52;c;x\\x07')
  })

  it('jsonEscaped writes C1, DEL and bidi as \\u escapes: the same data for a parser', () => {
    const value = {t: NASTY.join(' ')}
    const text = jsonEscaped(JSON.stringify(value))
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/)
    expect(JSON.parse(text)).toEqual(value)
  })

  it('every table cell is escaped (queue listing, message table, context list)', () => {
    const table = renderTable([{header: 'queue', value: (r: {n: string}) => r.n}], NASTY.map((n) => ({n})), false)
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/)
    expect(table).toContain('\\x1b]52;c;aGk=\\x07')
  })
})
