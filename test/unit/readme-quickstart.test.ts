// README's quick start is what a newcomer runs first: its `npm test` line must name every service
// the suite talks to, with how to start each, and it must say what `bench` load-tests.
import {readFileSync, readdirSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const quickStart = README.slice(README.indexOf('## Quick start'), README.indexOf('\n## ', README.indexOf('## Quick start') + 1))

/** The service each contract suite (test/contract/<transport>…test.ts) needs, and a start command README must give. */
const SERVICES: Record<string, {name: RegExp; start: RegExp}> = {
  memory: {name: /memory:\/\//, start: /no server needed/},
  redis: {name: /Redis/, start: /redis-server /},
  amqp: {name: /RabbitMQ with management/, start: /rabbitmq-server .*rabbitmq-plugins enable rabbitmq_management/},
  nats: {name: /NATS JetStream/, start: /nats-server .*-js/},
  postgres: {name: /PostgreSQL/, start: /pg_ctl/},
  kafka: {name: /Apache Kafka/, start: /scripts\/kafka\.sh start/},
  sqs: {name: /SQS emulator/, start: /test\/setup\/sqs\.ts[\s\S]*npx fauxqs/},
}

describe('README quick start', () => {
  it('names every service the test suite needs, and how to start each', () => {
    const transports = new Set(readdirSync(new URL('../contract/', import.meta.url)).filter((f) => f.endsWith('.test.ts')).map((f) => f.split(/[-.]/)[0]!))
    expect([...transports].filter((t) => !SERVICES[t]), 'a transport with a contract suite but no entry here (and in README)').toEqual([])
    for (const t of transports) {
      expect(quickStart, `${t}: the service`).toMatch(SERVICES[t]!.name)
      expect(quickStart, `${t}: how to start it`).toMatch(SERVICES[t]!.start)
    }
    const testLine = quickStart.split('\n').find((l) => l.startsWith('npm test'))!
    for (const name of ['Redis', 'RabbitMQ with management', 'NATS JetStream', 'PostgreSQL']) expect(testLine).toContain(name)
  })

  it('says that bench load-tests the current context\'s broker when there is one', () => {
    expect(quickStart).toMatch(/with a current context \(or `QUEUE_URL`\) it benchmarks that broker/)
    expect(README).not.toMatch(/queue bench +# 5 s closed loop on memory:\/\/\n/)
  })
})
