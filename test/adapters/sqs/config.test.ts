// sqs:// URL forms and the body encoding, without a broker.
import {describe, expect, it} from 'vitest'
import {parseSqsUrl} from '../../../src/adapters/sqs/config.js'
import {encodeBody, messageSize} from '../../../src/adapters/sqs/codec.js'

const parse = (url: string, options: {endpoint?: string} = {}) => parseSqsUrl(new URL(url), {timeoutMs: 1000, options})

describe('sqs:// URLs', () => {
  it('plain sqs:// leaves region, endpoint and credentials to the AWS chain', () => {
    expect(parse('sqs://')).toMatchObject({region: undefined, endpoint: undefined, credentials: undefined, fifo: false, waitSeconds: 20})
  })

  it('the emulator form: ?region=&endpoint=, and --endpoint wins over the URL', () => {
    expect(parse('sqs://?region=us-east-1&endpoint=http://127.0.0.1:4566')).toMatchObject({region: 'us-east-1', endpoint: 'http://127.0.0.1:4566'})
    expect(parse('sqs://?endpoint=http://127.0.0.1:4566', {endpoint: 'http://127.0.0.1:9999'}).endpoint).toBe('http://127.0.0.1:9999')
  })

  it('KEYID:SECRET@host: inline credentials, http only on loopback, secret never displayed', () => {
    const s = parse('sqs://AKID:s3cr3t@127.0.0.1:4566?region=eu-west-1')
    expect(s).toMatchObject({endpoint: 'http://127.0.0.1:4566', credentials: {accessKeyId: 'AKID', secretAccessKey: 's3cr3t'}})
    expect(s.displayUrl).toBe('sqs://AKID:***@127.0.0.1:4566?region=eu-west-1')
    expect(parse('sqs://AKID:x@sqs.example.com?region=eu-west-1').endpoint).toBe('https://sqs.example.com')
  })

  it('fifo, group and wait options; anything else is refused (exit 2)', () => {
    expect(parse('sqs://?fifo=true&group=g1&wait=5')).toMatchObject({fifo: true, defaultGroupId: 'g1', waitSeconds: 5})
    expect(() => parse('sqs://?wait=30')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parse('sqs://?fifo=maybe')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parse('sqs://?queue=x')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parse('sqs://?endpoint=ftp://x')).toThrow(expect.objectContaining({exitCode: 2}))
    expect(() => parse('sqs://h/some-queue')).toThrow(expect.objectContaining({exitCode: 2}))
  })
})

describe('bodies', () => {
  it('text SQS accepts travels as is; anything else base64, marked', () => {
    expect(encodeBody('{"a":"héllo 🚀"}')).toEqual({body: '{"a":"héllo 🚀"}', base64: false})
    expect(encodeBody(Buffer.from('plain'))).toEqual({body: 'plain', base64: false})
    expect(encodeBody('nul \u0000 inside').base64).toBe(true)
    expect(encodeBody(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({body: '//4A', base64: true})
    const empty = encodeBody('')
    expect(empty.base64).toBe(true)
    expect(Buffer.from(empty.body, 'base64')).toHaveLength(0)
  })

  it('counts size the way SQS does: body bytes plus attribute names, types and values', () => {
    expect(messageSize('héllo', {k: {DataType: 'String', StringValue: 'vv'}})).toBe(6 + 1 + 6 + 2)
  })
})
