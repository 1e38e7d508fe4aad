// nats:// URL parsing: seeds, user/password, token, options, queue names and subject matching.
import {describe, expect, it} from 'vitest'
import {parseBrokerUrl} from '../../../src/adapters/registry.js'
import {parseNatsUrl} from '../../../src/adapters/nats/config.js'
import {parseQueue, subjectMatches} from '../../../src/adapters/nats/names.js'
import {redactText} from '../../../src/kernel/redact.js'

const parse = (raw: string) => parseNatsUrl(parseBrokerUrl(raw), {timeoutMs: 1000})

describe('nats:// URLs', () => {
  it('one server, default port', () => {
    expect(parse('nats://10.0.0.1')).toMatchObject({servers: ['10.0.0.1:4222'], displayUrl: 'nats://10.0.0.1:4222'})
  })

  it('several seeds, user and password (redacted)', () => {
    const s = parse('nats://app:s3cret-pw@n1:4222,n2:4223,n3')
    expect(s).toMatchObject({servers: ['n1:4222', 'n2:4223', 'n3:4222'], user: 'app', pass: 's3cret-pw', token: undefined})
    expect(s.displayUrl).toBe('nats://app:***@n1:4222,n2:4223,n3:4222')
  })

  it('a user part without a password is a token, masked everywhere', () => {
    const s = parse('nats://tok-abc-123@n1:4222')
    expect(s).toMatchObject({token: 'tok-abc-123', user: undefined, pass: undefined, displayUrl: 'nats://***@n1:4222'})
    expect(redactText('the server said tok-abc-123 is bad')).not.toContain('tok-abc-123')
  })

  it('options: consumer, subject, creds; nats+tls turns TLS on', () => {
    expect(parse('nats+tls://h:4222?consumer=w&subject=jobs.new&creds=/etc/app.creds')).toMatchObject({
      consumer: 'w',
      subject: 'jobs.new',
      credsFile: '/etc/app.creds',
      tls: {},
      displayUrl: 'nats+tls://h:4222?consumer=w&subject=jobs.new&creds=/etc/app.creds',
    })
  })

  it('refuses unknown options and paths (exit 2)', () => {
    expect(() => parse('nats://h?strem=X')).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringContaining('unknown option "strem"')}))
    expect(() => parse('nats://h/ORDERS')).toThrow(expect.objectContaining({exitCode: 2}))
  })

  it('queues: STREAM, STREAM/CONSUMER, the URL\'s consumer as default', () => {
    expect(parseQueue('ORDERS')).toEqual({stream: 'ORDERS', consumer: undefined})
    expect(parseQueue('ORDERS', 'w')).toEqual({stream: 'ORDERS', consumer: 'w'})
    expect(parseQueue('ORDERS/billing', 'w')).toEqual({stream: 'ORDERS', consumer: 'billing'})
    for (const bad of ['', 'A/', '/B', 'A/B/C', 'a.b', 'a b', 'a*']) expect(() => parseQueue(bad)).toThrow(expect.objectContaining({exitCode: 2}))
  })

  it('subject matching: * one token, > the rest', () => {
    expect(subjectMatches('orders.*', 'orders.new')).toBe(true)
    expect(subjectMatches('orders.*', 'orders.new.eu')).toBe(false)
    expect(subjectMatches('orders.>', 'orders.new.eu')).toBe(true)
    expect(subjectMatches('orders.>', 'orders')).toBe(false)
    expect(subjectMatches('orders', 'orders')).toBe(true)
  })
})
