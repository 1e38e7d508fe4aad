// Issue 23, input mistakes a newcomer makes: a JSON typo, empty stdin, a schema failure that
// does not say which property. Each is exit 2, one line, nothing sent.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {Redis} from 'ioredis'
import {afterAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

const home = isolatedHome()
const URL6379 = 'redis://127.0.0.1:6379/13'
const list = `list:wt-newbie-input-${process.pid}`
const redis = new Redis('redis://127.0.0.1:6379/13', {lazyConnect: true})
afterAll(async () => {
  await redis.del(list.slice('list:'.length)).catch(() => undefined)
  redis.disconnect()
})

describe('enqueue input mistakes', () => {
  it("enqueue list:x '{bad': looks like JSON but is not — exit 2 with the parse position, nothing sent", async () => {
    const r = await runCli(['enqueue', list, '{bad', '--url', URL6379], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/the payload looks like JSON but is not \(.*position 1.*\) — nothing was sent; .*--content-type text\/plain/)])
    expect(r.stdout).toBe('')
    await redis.connect().catch(() => undefined)
    expect(await redis.llen(list.slice('list:'.length))).toBe(0)
  })

  it("with --content-type text/plain the same bytes are sent as text (exit 0)", async () => {
    const r = await runCli(['enqueue', list, '{bad', '--content-type', 'text/plain', '--url', URL6379], {env: home})
    expect(r.code).toBe(0)
    expect(await redis.lrange(list.slice('list:'.length), 0, -1)).toEqual(['{bad'])
  })

  it('text that does not look like JSON is still sent as it is', async () => {
    const r = await runCli(['enqueue', '--url', 'memory://', 'q', 'hello'], {env: home})
    expect(r.code).toBe(0)
  })

  it('empty stdin: exit 2 and a line saying nothing was sent', async () => {
    const r = await runCli(['enqueue', 'q', '--url', 'memory://'], {env: home, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/stdin was empty: no message to send — pipe NDJSON/)])
    expect(r.stdout).toBe('')
  })

  it('a schema failure for an extra property names the property', async () => {
    const schema = join(home.HOME!, 'strict.schema.json')
    writeFileSync(schema, JSON.stringify({type: 'object', properties: {to: {type: 'string'}}, additionalProperties: false}))
    const r = await runCli(['enqueue', 'q', '{"to":"a","cc":"b"}', '--schema', schema, '--url', 'memory://'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/fails the schema at \/ must NOT have additional properties \("cc"\)/)
  })
})

describe('export --json: stdout is the data stream', () => {
  it('the error document goes to stderr, never into the file being written', async () => {
    const r = await runCli(['export', 'q', '--json', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(JSON.parse(r.stderr.trim())).toMatchObject({error: {exitCode: 2, message: expect.stringMatching(/export writes NDJSON already — drop --json/)}})
  })

  it('other commands keep their --json error document on stdout', async () => {
    const r = await runCli(['inspect', 'nope', '--json', '--url', 'memory://'], {env: home})
    expect(r.code).toBe(4)
    expect(JSON.parse(r.stdout)).toMatchObject({error: {exitCode: 4}})
  })
})
