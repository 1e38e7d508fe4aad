// The 10-minute soak per broker (`npm run test:soak`; not part of `npm test`). SOAK_SECONDS and
// SOAK_RATE (default per broker) change the length and the rate; SOAK_BROKERS=redis,amqp,sqs picks brokers.
import {afterAll, describe, expect, inject, it} from 'vitest'
import {describeSoak, soak, soakQueue} from './soak.js'
import {killChildren} from '../harness.js'

afterAll(killChildren)

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600)
// what each broker sustains on this 2-core machine with room to spare (the SQS emulator is slowest)
const RATES: Record<string, number> = {redis: 200, amqp: 200, sqs: 50}
const rateOf = (kind: string) => Number(process.env.SOAK_RATE ?? RATES[kind])
const WINDOW = Math.max(5, Math.round(SECONDS / 10))
const wanted = (process.env.SOAK_BROKERS ?? 'redis,amqp,sqs').split(',')

const brokers: {kind: string; url: () => string; create: boolean}[] = [
  {kind: 'redis', url: () => process.env.QUEUECTL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', create: false},
  {kind: 'amqp', url: () => process.env.QUEUECTL_TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/', create: true},
  {kind: 'sqs', url: () => `sqs://AKIDSOAK:soak@${new URL(inject('sqsEndpoint')).host}?region=us-east-1`, create: true},
]

describe(`soak: ${SECONDS} s at a steady rate per broker`, () => {
  for (const b of brokers.filter((x) => wanted.includes(x.kind))) {
    const RATE = rateOf(b.kind)
    it(`${b.kind} at ${RATE}/s: nothing lost, memory flat, p99 steady`, async () => {
      const r = await soak({url: b.url(), queue: soakQueue(b.kind), rate: RATE, seconds: SECONDS, windowSeconds: WINDOW, createQueue: b.create})
      console.log(describeSoak(b.kind, r))
      expect(r.lost).toBe(0)
      expect(r.duplicated).toBe(0)
      expect(r.sendErrors).toBe(0)
      expect(r.workerErrors).toBe(0)
      expect(r.sent).toBeGreaterThan(RATE * SECONDS * 0.9)
      // flat memory: under 64 MiB of growth from the warm start to the end
      expect(r.rssEndMb - r.rssStartMb).toBeLessThan(64)
      // steady p99: the second half's worst window within 3x the first half's worst (or under 500 ms)
      const p99s = r.windows.slice(1).map((w) => w.p99)
      const half = Math.ceil(p99s.length / 2)
      const first = Math.max(...p99s.slice(0, half))
      const second = Math.max(...p99s.slice(half))
      expect(second).toBeLessThan(Math.max(500, 3 * first))
    }, (SECONDS + 240) * 1000)
  }
})
