// The transports are described as data: the registry's list of descriptors gives every scheme,
// every transport's CONNECTION flag, the copied-header rules and saved contexts' options.
import {mkdtempSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {SUPPORTED_SCHEMES, TRANSPORTS, TRANSPORT_OPTIONS, parseBrokerUrl, transportOf} from '../../src/adapters/registry.js'
import {BaseCommand} from '../../src/cli/base-command.js'
import {loadConfig} from '../../src/services/config.js'
import {brokerOptions, contextConnection} from '../../src/services/connection.js'
import {copyHeaders} from '../../src/services/ops/message-format.js'

const ADAPTERS = new URL('../../src/adapters/', import.meta.url).pathname

describe('transport descriptors', () => {
  it('the registry lists one descriptor per adapter folder, and their schemes are every supported scheme', () => {
    const folders = readdirSync(ADAPTERS, {withFileTypes: true}).filter((d) => d.isDirectory() && readdirSync(join(ADAPTERS, d.name)).includes('descriptor.ts'))
    expect(TRANSPORTS.map((t) => t.name).sort()).toEqual(folders.map((d) => d.name).sort())
    expect(SUPPORTED_SCHEMES).toEqual(TRANSPORTS.flatMap((t) => t.schemes))
    expect(new Set(SUPPORTED_SCHEMES).size).toBe(SUPPORTED_SCHEMES.length)
  })

  it('every example URL parses and is served by the transport that gives it', () => {
    for (const transport of TRANSPORTS) {
      expect(transport.examples.length).toBeGreaterThan(0)
      for (const example of transport.examples) expect(transportOf(parseBrokerUrl(example))).toBe(transport)
    }
  })

  it('a descriptor loads no SDK: it imports only the descriptor type, and the adapter lazily', () => {
    for (const {name} of TRANSPORTS) {
      const text = readFileSync(join(ADAPTERS, name, 'descriptor.ts'), 'utf8')
      const staticImports = [...text.matchAll(/^import\s+(type\s+)?.*from\s+'([^']+)'/gm)]
      // the descriptor module only (its types, and plain helpers such as seedsInQuery)
      expect(staticImports.map((m) => m[2])).toEqual(['../../broker/descriptor.js'])
      expect(text).toMatch(/await import\('\.\/index\.js'\)/)
    }
  })

  it('load() gives the factory', async () => {
    const memory = TRANSPORTS.find((t) => t.name === 'memory')!
    expect(typeof (await memory.load())).toBe('function')
  })

  it('redis+cluster seeds are folded into the query by the Redis descriptor before parsing', () => {
    const url = parseBrokerUrl('redis+cluster://:pw@h1:7000,h2:7001,h3:7002/0?x=1#f')
    expect(url.host).toBe('h1:7000')
    expect(url.searchParams.get('seeds')).toBe('h2:7001,h3:7002')
  })
})

describe('the CONNECTION flags come from the descriptors', () => {
  const flags = BaseCommand.baseFlags as Record<string, {summary?: string; helpGroup?: string; env?: string}>

  it("each transport option is a CONNECTION flag with the descriptor's summary (--mgmt-url, --endpoint as before)", () => {
    expect(TRANSPORT_OPTIONS.map((o) => o.name)).toEqual(['mgmt-url', 'endpoint', 'creds', 'nkey', 'sasl-mechanism'])
    for (const option of TRANSPORT_OPTIONS) {
      expect(flags[option.name]).toMatchObject({summary: option.summary, helpGroup: 'CONNECTION'})
      expect(flags[option.name]!.env).toBe(option.env)
    }
    expect(Object.keys(flags)).toEqual(['url', 'context', 'timeout', 'tls-ca', 'tls-insecure', 'mgmt-url', 'endpoint', 'creds', 'nkey', 'sasl-mechanism'])
  })

  it("--url's summary lists every scheme", () => {
    const listed = /\((.*)\)/.exec(flags.url!.summary!)![1]!.split(', ')
    expect(listed).toEqual(SUPPORTED_SCHEMES.map((s) => `${s}://`))
  })
})

describe('per-transport options', () => {
  it('a flag beats the saved context, option by option; no flag leaves the context its own', () => {
    const connection = {url: 'amqp://h', source: 'context' as const, options: {'mgmt-url': 'http://ctx:15672', endpoint: 'http://e'}}
    expect(brokerOptions({timeoutMs: 1, options: {'mgmt-url': 'http://flag:15672'}}, connection).options).toEqual({'mgmt-url': 'http://flag:15672', endpoint: 'http://e'})
    expect(brokerOptions({timeoutMs: 1, options: {}}, connection).options).toEqual(connection.options)
  })

  it('an old config file with mgmtUrl is read as the amqp mgmt-url option', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'queuectl-config-')), 'config.json')
    writeFileSync(path, JSON.stringify({currentContext: 'r', contexts: {r: {url: 'amqp://h', mgmtUrl: 'http://m:15672'}, m: {url: 'memory://'}}}))
    const config = await loadConfig(path)
    expect(config.contexts).toEqual({r: {url: 'amqp://h', options: {'mgmt-url': 'http://m:15672'}}, m: {url: 'memory://'}})
    expect(contextConnection(config.contexts.r!)).toEqual({url: 'amqp://h', source: 'context', options: {'mgmt-url': 'http://m:15672'}})
  })

  it('headers a transport declares as its own are not copied; dead-letter notes are dropped on retry', () => {
    const headers = {'x-death': '1', 'X-First-Death-Reason': 'r', 'x-delivery-count': '2', 'x-queuectl-attempts': '3', 'x-queuectl-error': 'e', keep: 'k', 'x-deathly': 'y'}
    expect(copyHeaders(headers)).toEqual({'x-queuectl-error': 'e', keep: 'k', 'x-deathly': 'y'})
    expect(copyHeaders(headers, {retry: true})).toEqual({keep: 'k', 'x-deathly': 'y'})
  })
})
