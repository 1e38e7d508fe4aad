// A consumer group on either protocol: a classic member (JoinGroup/SyncGroup) and a KIP-848
// consumer-protocol member (ConsumerGroupHeartbeat), both real @platformatic/kafka consumers that
// commit part of a topic; `stats` counts each group's member and its lag as
// `kafka-consumer-groups --describe` does, and `listQueues` names both groups.
import {Consumer} from '@platformatic/kafka'
import {afterAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {BOOTSTRAP, createTopic, deleteTopic, ensureKafka, kafkaTool, openKafka, uniqueTopic} from './helpers.js'

const missing = await ensureKafka()
const made: string[] = []
const consumers: Consumer[] = []
let broker: Broker | undefined

afterAll(async () => {
  await Promise.allSettled(consumers.map((c) => c.close(true)))
  await broker?.close()
  for (const t of made) await deleteTopic(t)
}, 60_000)

async function lagOf(group: string): Promise<number> {
  const out = await kafkaTool('consumer-groups', ['--bootstrap-server', BOOTSTRAP, '--describe', '--group', group])
  return out.split('\n').filter((l) => l.startsWith(group + ' ')).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[5]), 0)
}

/** A member of `group` on `protocol` that takes `take` records, commits them, and stays joined. */
async function member(topic: string, group: string, protocol: 'classic' | 'consumer', take: number): Promise<void> {
  const c = new Consumer({clientId: `${group}-m`, bootstrapBrokers: [BOOTSTRAP], groupId: group, groupProtocol: protocol, autocommit: false} as never)
  consumers.push(c)
  const stream = await c.consume({topics: [topic], mode: 'earliest', autocommit: false})
  let n = 0
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${protocol}: ${n} of ${take} records in 30 s`)), 30_000)
    stream.on('data', (m: {commit(): unknown}) => {
      if (n >= take) return
      n++
      if (n === take) {
        stream.pause()
        void Promise.resolve(m.commit()).then(() => (clearTimeout(timer), resolve()), reject)
      }
    })
  })
}

describe.skipIf(Boolean(missing))(`kafka:// classic and KIP-848 consumer groups${missing ? ` (skipped: ${missing})` : ''}`, () => {
  it('counts the members and the lag of a classic group and of a consumer-protocol group', async () => {
    const t = await createTopic(uniqueTopic('proto'), 1)
    made.push(t, `${t}-dlt`)
    broker = await openKafka()
    await broker.enqueue(t, Array.from({length: 100}, (_, i) => ({payload: `r${i}`})))
    await member(t, `${t}-classic`, 'classic', 30)
    await member(t, `${t}-kip848`, 'consumer', 60)

    for (const [group, taken] of [[`${t}-classic`, 30], [`${t}-kip848`, 60]] as const) {
      const s = await broker.stats(`${t}/${group}`)
      expect(s.consumers, group).toBe(1)
      expect(s.counts.waiting, group).toBe(100 - taken)
      expect(s.counts.waiting, group).toBe(await lagOf(group))
    }
    const names = (await broker.listQueues()).map((q) => q.name)
    expect(names).toContain(`${t}/${t}-classic`)
    expect(names).toContain(`${t}/${t}-kip848`)
  }, 120_000)
})
