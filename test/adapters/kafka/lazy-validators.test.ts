// @platformatic/kafka's ~40 option validators compile on first use, not while the client loads
// (~200 ms of every Kafka command's start-up), and still validate what a strict client is given.
import {describe, expect, it} from 'vitest'

describe('the Kafka client loads without compiling its validators', () => {
  it('compiles none at import, and a strict client still refuses bad options', async () => {
    await import('../../../src/adapters/kafka/lazy-validators.js')
    const kafka = await import('@platformatic/kafka')
    const ajv = kafka.ajv as unknown as {_cache: Map<unknown, unknown>}
    // without the lazy compile every options schema of the client is in the cache by now (~40)
    const atImport = ajv._cache.size
    expect(atImport).toBeLessThan(10) // the draft-2020 meta-schemas alone (8)
    expect(() => new kafka.Producer({clientId: 'lazy-validators', bootstrapBrokers: ['127.0.0.1:9'], strict: true, acks: 'all' as unknown as number})).toThrow(/acks/)
    expect(ajv._cache.size).toBeGreaterThan(atImport)
    // a valid strict client is made (nothing is connected until it is used)
    const ok = new kafka.Producer({clientId: 'lazy-validators', bootstrapBrokers: ['127.0.0.1:9'], strict: true, acks: -1})
    await ok.close()
  })
})
