// The job-library codecs without a server: asynq's protobuf wire format (checked against bytes
// computed by hand from asynq.proto, since no asynq/protobuf package is installed here), kombu's
// envelope around Celery tasks, Sidekiq job JSON, and RQ's readable job fields.
import {deflateSync} from 'node:zlib'
import {describe, expect, it} from 'vitest'
import {ProtoError, decodeAsynqTask, encodeAsynqTask} from '../../../src/adapters/redis/flavors/asynq-proto.js'
import {KOMBU_SEP, bindingQueue, encodeForCelery, envelopeToMessage, isControlExchange, unackedTarget} from '../../../src/adapters/redis/flavors/celery-envelope.js'
import {rqExcText, rqFunctionName, rqJobToMessage, rqResultExc, rqTime} from '../../../src/adapters/redis/flavors/rq-job.js'
import {encodeSidekiqJobs, sidekiqStamp, sidekiqTime, timeFormatOf, requeuedJob, sidekiqJobToMessage} from '../../../src/adapters/redis/flavors/sidekiq-job.js'

describe('asynq TaskMessage protobuf', () => {
  it('encodes to the wire bytes asynq.proto defines (hand-computed)', () => {
    // type=1 'a', payload=2 'b', id=3 'c', queue=4 'q', retry=5 25, timeout=8 1800 (0x708 → 88 0e)
    const bytes = encodeAsynqTask({type: 'a', payload: Buffer.from('b'), id: 'c', queue: 'q', retry: 25, timeout: 1800})
    expect(bytes.toString('hex')).toBe('0a0161' + '120162' + '1a0163' + '220171' + '2819' + '40880e')
    // headers=15 map entry {1: 'k', 2: 'v'}: tag 15<<3|2 = 0x7a
    expect(encodeAsynqTask({headers: {k: 'v'}}).toString('hex')).toBe('7a06' + '0a016b' + '120176')
  })

  it('round-trips every field, including int64 times, negatives and headers', () => {
    const task = {
      type: 'email:deliver', payload: Buffer.from([0, 1, 2, 255]), id: 'id-1', queue: 'critical', retry: 3, retried: 2,
      errorMsg: 'boom ✗', timeout: 60, deadline: 1_795_000_000, uniqueKey: 'u', lastFailedAt: 1_795_000_001,
      retention: 86_400, completedAt: 1_795_000_002, groupKey: 'g', headers: {a: '1', b: 'two'},
    }
    expect(decodeAsynqTask(encodeAsynqTask(task))).toEqual(task)
    expect(decodeAsynqTask(encodeAsynqTask({retried: -1})).retried).toBe(-1)
  })

  it('skips fields it does not know (any wire type), as protobuf requires', () => {
    const known = encodeAsynqTask({type: 't', id: 'x'})
    // field 99 varint 7, field 98 fixed32, field 97 fixed64, field 96 bytes
    const unknown = Buffer.from('980607' + '950601020304' + '89060102030405060708' + '820602aabb', 'hex')
    expect(decodeAsynqTask(Buffer.concat([unknown, known]))).toMatchObject({type: 't', id: 'x'})
  })

  it('a truncated message is an error that says where, at any cut inside a field', () => {
    const whole = encodeAsynqTask({type: 'email:deliver', payload: Buffer.from('{"to":"a"}'), id: 'abc', timeout: 1800})
    expect(() => decodeAsynqTask(whole.subarray(0, 5))).toThrow(ProtoError)
    expect(() => decodeAsynqTask(whole.subarray(0, 5))).toThrow(/truncated: a field of 13 bytes at byte 2/)
    expect(() => decodeAsynqTask(whole.subarray(0, whole.length - 1))).toThrow(/truncated varint/)
    expect(() => decodeAsynqTask(Buffer.from([0x00]))).toThrow(/field number 0/)
  })
})

describe('kombu envelope (Celery on Redis)', () => {
  it('encodes what kombu’s Redis transport writes and decodes it back', () => {
    const {ids, items} = encodeForCelery('emails', [{name: 'tasks.add', payload: '[2, 3]', headers: {tenant: 'acme'}}], Date.UTC(2030, 0, 1))
    const env = JSON.parse(items[0]!)
    expect(env).toMatchObject({
      'content-type': 'application/json',
      'content-encoding': 'utf-8',
      headers: {lang: 'py', task: 'tasks.add', id: ids[0], retries: 0, eta: null, argsrepr: '(2, 3)', tenant: 'acme'},
      properties: {correlation_id: ids[0], delivery_mode: 2, delivery_info: {exchange: '', routing_key: 'emails'}, priority: 0, body_encoding: 'base64'},
    })
    expect(JSON.parse(Buffer.from(env.body, 'base64').toString())).toEqual([[2, 3], {}, {callbacks: null, errbacks: null, chain: null, chord: null}])
    const m = envelopeToMessage(Buffer.from(items[0]!), 'emails', 'waiting')
    expect(m).toMatchObject({id: ids[0], name: 'tasks.add', attempts: 0, body: {args: [2, 3], kwargs: {}, retries: 0}})
    const delayed = encodeForCelery('emails', [{name: 't', payload: '{"x": 1}', delayMs: 60_000}], Date.UTC(2030, 0, 1))
    expect(JSON.parse(delayed.items[0]!).headers.eta).toBe('2030-01-01T00:01:00+00:00')
    expect(envelopeToMessage(Buffer.from(delayed.items[0]!), 'emails', 'waiting').availableAt).toBe(Date.UTC(2030, 0, 1, 0, 1))
  })

  it('refuses what Celery could not run, before building anything (exit 2)', () => {
    const bad: [Parameters<typeof encodeForCelery>[1], RegExp][] = [
      [[{payload: '[1]'}], /needs its registered name/],
      [[{name: 't', payload: 'nope'}], /must be JSON/],
      [[{name: 't', payload: '{"args": {"a": 1}}'}], /"args" .* must be an array/],
      [[{name: 't', payload: '[1]'}, {name: 't', payload: '{"kwargs": []}'}], /message 2: "kwargs"/],
      [[{name: 't', payload: '[]', priority: 5}], /--priority/],
    ]
    for (const [messages, why] of bad) expect(() => encodeForCelery('q', messages)).toThrow(expect.objectContaining({exitCode: 2, message: expect.stringMatching(why)}))
  })

  it('not JSON, not kombu, pickled: listed as undecodable with the reason, never unpickled', () => {
    expect(envelopeToMessage(Buffer.from('{oops'), 'q', 'waiting').undecodable).toMatch(/not JSON/)
    expect(envelopeToMessage(Buffer.from('{"a": 1}'), 'q', 'waiting').undecodable).toMatch(/no body\/properties/)
    const bytes = Buffer.from([0x80, 0x04, 0x95])
    const pickled = JSON.stringify({body: bytes.toString('base64'), 'content-type': 'application/x-python-serialize', 'content-encoding': 'binary', headers: {task: 't', id: 'i-1'}, properties: {body_encoding: 'base64'}})
    const m = envelopeToMessage(Buffer.from(pickled), 'q', 'waiting')
    expect(m).toMatchObject({id: 'i-1', name: 't', undecodable: expect.stringMatching(/never unpickled/)})
    expect(m.payload).toEqual(bytes) // the pickle's bytes, kept opaque
  })

  it('bindings, unacked values and control exchanges', () => {
    expect(bindingQueue(`emails${KOMBU_SEP}${KOMBU_SEP}emails`)).toBe('emails')
    expect(bindingQueue('no separators')).toBeUndefined()
    expect(unackedTarget(Buffer.from(JSON.stringify([{body: ''}, 'ex', 'rk'])))).toMatchObject({exchange: 'ex', routingKey: 'rk'})
    expect(unackedTarget(Buffer.from('[1]'))).toBeUndefined()
    expect(isControlExchange('celery.pidbox')).toBe(true)
    expect(isControlExchange('celeryev')).toBe(true)
    expect(isControlExchange('emails')).toBe(false)
  })
})

describe('Sidekiq job JSON', () => {
  it('builds jobs as Sidekiq::Client does: 24-hex jid, enqueued_at only when not scheduled', () => {
    const [now, later] = encodeSidekiqJobs('default', [{name: 'HardWorker', payload: '[1, "two"]'}, {name: 'HardWorker', payload: '[]', delayMs: 5000}], 'seconds', 1_700_000_000_250)
    expect(now!.jid).toMatch(/^[0-9a-f]{24}$/)
    expect(JSON.parse(now!.json)).toEqual({retry: true, queue: 'default', class: 'HardWorker', args: [1, 'two'], jid: now!.jid, created_at: 1_700_000_000.25, enqueued_at: 1_700_000_000.25})
    expect(JSON.parse(later!.json).enqueued_at).toBeUndefined()
    expect(later!.at).toBe(1_700_000_005.25)
  })

  it('refuses arguments that are not a JSON array, and a job without a class (exit 2)', () => {
    for (const payload of ['{"a": 1}', '5', 'nope']) {
      expect(() => encodeSidekiqJobs('q', [{name: 'W', payload}])).toThrow(expect.objectContaining({exitCode: 2}))
    }
    expect(() => encodeSidekiqJobs('q', [{payload: '[]'}])).toThrow(/worker class/)
  })

  it('keeps unknown fields: shown in the body, written back by a retry', () => {
    const raw = JSON.stringify({class: 'W', args: [], jid: 'j1', queue: 'q', retry_count: 2, error_class: 'E', error_message: 'm', tenant: 'acme', bid: 'batch-1'})
    const m = sidekiqJobToMessage(Buffer.from(raw), 'q', 'retry', 1_700_000_000.5)
    expect(m).toMatchObject({id: 'j1', name: 'W', attempts: 3, lastError: 'E: m', availableAt: 1_700_000_000_500, body: {tenant: 'acme', bid: 'batch-1'}})
    const back = JSON.parse(requeuedJob(raw, 'seconds', 1_700_000_100_500)!.json)
    expect(back).toMatchObject({tenant: 'acme', bid: 'batch-1', retry_count: 1, enqueued_at: 1_700_000_100.5})
    expect(sidekiqJobToMessage(Buffer.from('[1]'), 'q', 'waiting').undecodable).toMatch(/not a JSON object/)
    expect(sidekiqJobToMessage(Buffer.from('{"jid":"x"}'), 'q', 'waiting').undecodable).toMatch(/needs "class"/)
    expect(sidekiqJobToMessage(Buffer.from(JSON.stringify({class: 'JobWrapper', wrapped: 'SendEmail', args: []})), 'q', 'waiting').name).toBe('SendEmail')
  })
})

describe('Sidekiq 7/8 job times and classes (sidekiq/sidekiq v8.1.7 api.rb time_from_timestamp, display_class)', () => {
  it('reads integer ms (8) and float seconds (≤ 7) as the same instant, and writes seconds with a fraction', () => {
    expect(sidekiqTime(1_796_604_693_686)).toBe(1_796_604_693_686)
    expect(sidekiqTime(1_796_604_693.686)).toBe(1_796_604_693_686)
    expect(sidekiqTime('1796604693')).toBeUndefined()
    expect(sidekiqStamp(1_796_604_693_686, 'ms')).toBe(1_796_604_693_686)
    expect(sidekiqStamp(1_796_604_693_000, 'seconds')).not.toBe(1_796_604_693)
    expect(JSON.stringify(sidekiqStamp(1_796_604_693_000, 'seconds'))).toMatch(/^1796604693\.\d+$/)
    expect(timeFormatOf({created_at: 1_796_604_693_686})).toBe('ms')
    expect(timeFormatOf({enqueued_at: 1_796_604_693.5})).toBe('seconds')
    expect(timeFormatOf({class: 'W'})).toBeUndefined()
  })

  it('shows the ActiveJob class under either wrapper (renamed Sidekiq::ActiveJob::Wrapper in 8), and display_class first', () => {
    const name = (job: object) => sidekiqJobToMessage(Buffer.from(JSON.stringify(job)), 'q', 'waiting').name
    expect(name({class: 'Sidekiq::ActiveJob::Wrapper', wrapped: 'SendEmail', args: [{job_class: 'SendEmail'}]})).toBe('SendEmail')
    expect(name({class: 'Sidekiq::ActiveJob::Wrapper', args: [{job_class: 'Billing'}]})).toBe('Billing')
    expect(name({class: 'ActiveJob::QueueAdapters::SidekiqAdapter::JobWrapper', args: [{job_class: 'Old'}]})).toBe('Old')
    expect(name({class: 'W', display_class: 'Shown', args: []})).toBe('Shown')
  })
})

describe('RQ job fields', () => {
  it('function names, timestamps and exception text (zlib, plain, results stream)', () => {
    expect(rqFunctionName("app.tasks.send('a', 1)")).toBe('app.tasks.send')
    expect(rqFunctionName('builtins.print')).toBe('builtins.print')
    expect(rqTime(Buffer.from('2026-11-25T13:21:47.684864Z'))).toBe(Date.UTC(2026, 10, 25, 13, 21, 47, 684))
    expect(rqExcText(deflateSync('Traceback…\nValueError: x'))).toBe('Traceback…\nValueError: x')
    expect(rqExcText(Buffer.from('plain text'))).toBe('plain text')
    expect(rqResultExc(deflateSync('E: y').toString('base64'))).toBe('E: y')
  })

  it('a job hash that is gone is still listed, as undecodable', () => {
    expect(rqJobToMessage('abc', {}, 'q', 'waiting').undecodable).toMatch(/rq:job:abc is gone/)
  })
})
