// URL → connection settings for the AMQP adapter (no broker needed).
import {describe, expect, it} from 'vitest'
import {DEFAULT_MAX_MESSAGE_BYTES, parseAmqpConfig} from '../../../src/adapters/amqp/config.js'
import {connectionError} from '../../../src/adapters/amqp/errors.js'

const parse = (url: string, mgmtUrl?: string) => parseAmqpConfig(new URL(url), {timeoutMs: 1000, options: {'mgmt-url': mgmtUrl}})

describe('amqp URL', () => {
  it('reads the vhost from the path: none, "/" and %2F are the default vhost', () => {
    expect(parse('amqp://h').vhost).toBe('/')
    expect(parse('amqp://h/').vhost).toBe('/')
    expect(parse('amqp://h/%2F').vhost).toBe('/')
    expect(parse('amqp://h/prod').vhost).toBe('prod')
    expect(parse('amqp://h/a%2Fb').vhost).toBe('a/b')
  })

  it('defaults ports, credentials and limits, and takes more hosts from hosts=', () => {
    const c = parse('amqp://h1?hosts=h2:5673,h3,[::1]:5674')
    expect(c.endpoints).toEqual([
      {host: 'h1', port: 5672},
      {host: 'h2', port: 5673},
      {host: 'h3', port: 5672},
      {host: '::1', port: 5674},
    ])
    expect(c).toMatchObject({username: 'guest', password: 'guest', queueType: 'classic', maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES, tls: false})
    expect(parse('amqps://u:p%40ss@h').endpoints[0]).toEqual({host: 'h', port: 5671})
    expect(parse('amqps://u:p%40ss@h').password).toBe('p@ss')
  })

  it('puts the management API on the same host, port 15672, with the same credentials unless told otherwise', () => {
    expect(parse('amqp://u:pw@rabbit.local/').mgmt).toEqual({base: 'http://rabbit.local:15672', username: 'u', password: 'pw', explicit: false})
    expect(parse('amqps://u:pw@rabbit.local/').mgmt.base).toBe('https://rabbit.local:15672')
    expect(parse('amqp://u:pw@h/', 'https://admin:root@mgmt.local:15671/').mgmt).toEqual({base: 'https://mgmt.local:15671', username: 'admin', password: 'root', explicit: true})
  })

  it('shows the password masked, in the one redacted form user:***@ (issue 23)', () => {
    const c = parse('amqp://user:hunter2secret@h:5672/v?queueType=quorum')
    expect(c.displayUrl).toBe('amqp://user:***@h:5672/v?queueType=quorum')
  })

  it('refuses unknown parameters, queue types and flavors with exit 2', () => {
    expect(() => parse('amqp://h?queue_type=quorum')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parse('amqp://h?queueType=lazy')).toThrow(/classic, quorum or stream/)
    expect(() => parse('amqp://h?flavor=rq')).toThrow(/flavor=celery/)
    expect(() => parse('amqp://h?maxMessageBytes=-1')).toThrow(/whole number/)
  })
})

describe('amqp connect errors', () => {
  it('an OpenSSL error whose thread id holds "403" is still a TLS mismatch, not a refused login (a Node 24 flake)', () => {
    const tls = Object.assign(new Error('40373E1AB17F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number'), {code: 'ERR_SSL_WRONG_VERSION_NUMBER'})
    expect(connectionError(tls, 'amqps://h:5672', '/').message).toMatch(/does not speak TLS/)
    const refused = new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"')
    expect(connectionError(refused, 'amqp://h:5672', '/').message).toMatch(/refused the login/)
  })
})
