// The transport-neutral Celery protocol-2 codec (src/adapters/formats/celery.ts).
import {describe, expect, it} from 'vitest'
import {celeryArgsFromPayload, celeryHeadersFromText, celeryIsoformat, decodeCeleryTask, encodeCeleryTask, pyRepr} from '../../../src/adapters/formats/celery.js'

describe('celery format', () => {
  it('encodes protocol-2 headers, properties and body the way Celery does', () => {
    const eta = Date.UTC(2030, 0, 2, 3, 4, 5)
    const t = encodeCeleryTask({task: 'proj.add', args: [1, 'two'], kwargs: {z: true}, eta})
    expect(t.headers).toMatchObject({lang: 'py', task: 'proj.add', id: t.id, root_id: t.id, parent_id: null, retries: 0, eta: '2030-01-02T03:04:05+00:00', argsrepr: "(1, 'two')", kwargsrepr: "{'z': True}"})
    expect(t.headers.timelimit).toEqual([null, null])
    expect(t.properties).toEqual({correlationId: t.id, contentType: 'application/json', contentEncoding: 'utf-8'})
    expect(JSON.parse(t.body.toString())).toEqual([[1, 'two'], {z: true}, {callbacks: null, errbacks: null, chain: null, chord: null}])
  })

  it('decodes what it encodes, and protocol 1 bodies', () => {
    const t = encodeCeleryTask({task: 'proj.mul', args: [3], kwargs: {}})
    const decoded = decodeCeleryTask(t.headers, t.body, 'application/json')
    expect('task' in decoded && decoded.task).toMatchObject({protocol: 2, id: t.id, task: 'proj.mul', args: [3], kwargs: {}, retries: 0})
    const v1 = decodeCeleryTask({}, Buffer.from(JSON.stringify({task: 'old.task', id: 'abc', args: [1], kwargs: {a: 2}, retries: 3})))
    expect('task' in v1 && v1.task).toMatchObject({protocol: 1, id: 'abc', task: 'old.task', args: [1], kwargs: {a: 2}, retries: 3})
  })

  it('never unpickles and says why a body is not decoded', () => {
    const t = encodeCeleryTask({task: 'x'})
    expect(decodeCeleryTask(t.headers, Buffer.from('\x80\x04'), 'application/x-python-serialize')).toEqual({error: expect.stringMatching(/never unpickled/)})
    expect(decodeCeleryTask(t.headers, Buffer.from('{'), 'application/json')).toEqual({error: expect.stringMatching(/not valid JSON/)})
    expect(decodeCeleryTask({}, Buffer.from('{"a":1}'))).toEqual({error: expect.stringMatching(/not a Celery task/)})
  })

  it('reads a payload as args, kwargs or both', () => {
    expect(celeryArgsFromPayload('[1,2]')).toEqual({args: [1, 2], kwargs: {}})
    expect(celeryArgsFromPayload('{"to":"a@b"}')).toEqual({args: [], kwargs: {to: 'a@b'}})
    expect(celeryArgsFromPayload('{"args":[1],"kwargs":{"k":2}}')).toEqual({args: [1], kwargs: {k: 2}})
    expect(celeryArgsFromPayload('')).toEqual({args: [], kwargs: {}})
    expect(celeryArgsFromPayload('7')).toEqual({args: [7], kwargs: {}})
    expect(() => celeryArgsFromPayload('nope')).toThrow(/must be JSON/)
    expect(() => celeryArgsFromPayload('{"args": 3}')).toThrow(/must be an array/)
  })

  it('writes Python reprs for argsrepr', () => {
    expect(pyRepr(['a'], true)).toBe("('a',)")
    expect(pyRepr([null, false, 1.5, "it's"], true)).toBe("(None, False, 1.5, 'it\\'s')")
    expect(pyRepr({a: [1]})).toBe("{'a': [1]}")
  })

  it("writes eta/expires as Python's isoformat() of an aware UTC datetime, as Celery 5.2 does", () => {
    expect(celeryIsoformat(Date.UTC(2030, 0, 2, 3, 4, 5, 678))).toBe('2030-01-02T03:04:05.678000+00:00')
    expect(celeryIsoformat(Date.UTC(2030, 0, 2, 3, 4, 5))).toBe('2030-01-02T03:04:05+00:00')
  })

  it('gives headers read back as text (peek, export, move) the types Celery wrote: None, not an empty eta', () => {
    const t = encodeCeleryTask({task: 'proj.add', args: [1]})
    // as toMessage shows them: null is '', arrays JSON, numbers and booleans text
    const text = Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k, v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]))
    const typed = celeryHeadersFromText({...text, 'x-custom': 'kept'})
    expect(typed).toEqual({...t.headers, 'x-custom': 'kept'})
    expect(typed.eta).toBeNull()
    expect(celeryHeadersFromText({eta: '2030-01-02T03:04:05+00:00', retries: '3', timelimit: '[30,null]', ignore_result: 'true', group_index: '2'})).toEqual({
      eta: '2030-01-02T03:04:05+00:00',
      retries: 3,
      timelimit: [30, null],
      ignore_result: true,
      group_index: 2,
    })
  })
})
