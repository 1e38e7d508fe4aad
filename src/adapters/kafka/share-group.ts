// A share group (KIP-932) seen and consumed over our own share requests (share-protocol.ts) on
// @platformatic/kafka connections: counts as `kafka-share-groups --describe` reports them, and a
// member that acquires records and accepts, releases or rejects each one.
import {randomUUID} from 'node:crypto'
import {Connection, metadataV12, findCoordinatorV6, type ConnectionOptions, type RecordsBatch} from '@platformatic/kafka'
import {
  AckType,
  describeShareGroupOffsets,
  shareAcknowledge,
  shareFetch,
  shareGroupDescribe,
  shareGroupHeartbeat,
  type AckBatch,
  type KafkaError,
  type ShareGroupDescription,
} from './share-protocol.js'
import {sleep} from './errors.js'

export interface Endpoint {
  host: string
  port: number
}
export interface ShareCounts {
  /**
   * Σ share-partition lag: records after the start offset not yet delivered to completion (available +
   * acquired); undefined while a partition has no persisted state (kafka-share-groups prints '-').
   */
  pending: bigint | undefined
  /** lag undefined: Kafka has no persisted state for the partition yet. */
  partitions: Array<{partition: number; startOffset: bigint; lag: bigint | undefined}>
  members: number
  state: string
}
export interface ShareRecord {
  partition: number
  offset: bigint
  deliveryCount: number
  key: Buffer | null
  value: Buffer | null
  headers: Array<[Buffer | null, Buffer | null]>
  timestamp: bigint
}

/** A Kafka error code as an Error, with the broker's words when it sent some. */
export class ShareGroupError extends Error {
  constructor(
    readonly code: number,
    what: string,
    message: string | null,
  ) {
    super(`${what}: Kafka error ${code}${message ? ` (${message})` : ''}`)
  }
}

/** Kafka's "not now" codes for group requests: COORDINATOR_LOAD_IN_PROGRESS, _NOT_AVAILABLE, NOT_COORDINATOR. */
export const COORDINATOR_BUSY: ReadonlySet<number> = new Set([14, 15, 16])

const check = (e: KafkaError, what: string): void => {
  if (e.code !== 0) throw new ShareGroupError(e.code, what, e.message)
}

// the client wraps a coordinator's error code in a ResponseError whose own canRetry is unset
const retriable = (e: unknown): boolean => {
  const x = e as {canRetry?: boolean; errors?: unknown[]}
  return x.canRetry === true || (x.errors ?? []).some(retriable)
}

/** Connections per broker for one share group: metadata from the bootstrap, requests to the coordinator or leader. */
export class ShareGroupClient {
  private readonly conns = new Map<string, Connection>()
  private brokers = new Map<number, Endpoint>()
  /** Members made on this client: close() has them leave the group (their unsettled records go back). */
  readonly members = new Set<ShareConsumer>()
  constructor(
    readonly bootstrap: Endpoint,
    readonly group: string,
    readonly timeoutMs = 10_000,
    readonly options: ConnectionOptions = {},
  ) {}

  async conn(at: Endpoint): Promise<Connection> {
    const key = `${at.host}:${at.port}`
    let c = this.conns.get(key)
    if (!c) {
      const made = new Connection('queuectl', {...this.options, connectTimeout: this.timeoutMs, requestTimeout: this.timeoutMs})
      // a broken socket (a late answer to a timed-out request destroys it) fails its requests; the
      // next call connects again. Without a listener its 'error' event would end the process.
      const forget = () => {
        if (this.conns.get(key) === made) this.conns.delete(key)
      }
      made.on('error', forget)
      made.on('close', forget)
      this.conns.set(key, (c = made))
      await c.connect(at.host, at.port)
    }
    return c
  }

  async topic(name: string): Promise<{topicId: string; leaders: Map<number, number>}> {
    const md = await metadataV12.api.async(await this.conn(this.bootstrap), [name], false, false)
    this.brokers = new Map(md.brokers.map((b) => [b.nodeId, {host: b.host, port: b.port}]))
    const t = md.topics[0]
    if (!t || t.errorCode !== 0) throw new ShareGroupError(t?.errorCode ?? 3, `topic ${name}`, null)
    return {topicId: t.topicId, leaders: new Map(t.partitions.map((p) => [p.partitionIndex, p.leaderId]))}
  }

  async node(id: number): Promise<Connection> {
    const at = this.brokers.get(id)
    if (!at) throw new Error(`broker ${id} is not in the cluster metadata`)
    return await this.conn(at)
  }

  async coordinator(): Promise<Connection> {
    if (this.brokers.size === 0) {
      const md = await metadataV12.api.async(await this.conn(this.bootstrap), [], false, false)
      this.brokers = new Map(md.brokers.map((b) => [b.nodeId, {host: b.host, port: b.port}]))
    }
    const deadline = Date.now() + this.timeoutMs
    for (;;) {
      try {
        const res = await findCoordinatorV6.api.async(await this.conn(this.bootstrap), 0, [this.group])
        const c = res.coordinators[0]
        if (c && c.errorCode === 0) return await this.conn({host: c.host, port: c.port})
      } catch (e) {
        // COORDINATOR_NOT_AVAILABLE while __consumer_offsets is being made: bounded retry
        if (!retriable(e) || Date.now() > deadline) throw e
      }
      if (Date.now() > deadline) throw new ShareGroupError(15, `the coordinator of group ${this.group}`, null)
      await sleep(250)
    }
  }

  /** `ask` of the group's coordinator, asked again while it is loading or moving (a fresh broker), within the timeout. */
  private async ofCoordinator<T>(ask: (c: Connection) => Promise<T>, errorOf: (answer: T) => KafkaError | undefined): Promise<T> {
    const deadline = Date.now() + this.timeoutMs
    for (;;) {
      const answer = await ask(await this.coordinator())
      if (!COORDINATOR_BUSY.has(errorOf(answer)?.code ?? 0) || Date.now() > deadline) return answer
      await sleep(250)
    }
  }

  async describe(): Promise<ShareGroupDescription> {
    const g = await this.ofCoordinator(async (c) => (await shareGroupDescribe.async(c, [this.group]))[0], (g) => g?.error)
    if (!g) throw new Error(`no answer for share group ${this.group}`)
    return g
  }

  /** The counts of `kafka-share-groups --describe --group G` for one topic (LAG summed over its partitions). */
  async counts(topic: string): Promise<ShareCounts> {
    const g = await this.describe()
    check(g.error, `share group ${this.group}`)
    const offsets = await this.ofCoordinator(async (c) => (await describeShareGroupOffsets.async(c, this.group, null))[0], (o) => o?.error)
    if (offsets) check(offsets.error, `the offsets of share group ${this.group}`)
    const parts = (offsets?.topics ?? []).filter((t) => t.topic === topic).flatMap((t) => t.partitions)
    for (const p of parts) check(p.error, `share partition ${topic}-${p.partition}`)
    const partitions = parts
      .map((p) => ({partition: p.partition, startOffset: p.startOffset, lag: p.startOffset < 0n || p.lag < 0n ? undefined : p.lag}))
      .sort((a, b) => a.partition - b.partition)
    const pending = partitions.some((p) => p.lag === undefined) ? undefined : partitions.reduce((s, p) => s + p.lag!, 0n)
    return {pending, partitions, members: g.members.length, state: g.state}
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.members].map(async (m) => await m.leave()))
    this.members.clear()
    await Promise.allSettled([...this.conns.values()].map(async (c) => await c.close()))
    this.conns.clear()
  }
}

interface Session {
  epoch: number
  partitions: number[]
}

/** One share-group member on one topic: join, fetch (acquire), and settle each record exactly once. */
export class ShareConsumer {
  readonly memberId = randomUUID()
  private epoch = 0
  private topicId = ''
  private leaders = new Map<number, number>()
  private assigned: number[] = []
  private readonly sessions = new Map<number, Session>()
  private readonly pendingAcks = new Map<number, Map<number, AckBatch[]>>()
  private beat: NodeJS.Timeout | undefined
  lockTimeoutMs = 0

  constructor(
    readonly client: ShareGroupClient,
    readonly topic: string,
  ) {
    client.members.add(this)
  }

  async join(): Promise<void> {
    ;({topicId: this.topicId, leaders: this.leaders} = await this.client.topic(this.topic))
    await this.heartbeat([this.topic])
    const deadline = Date.now() + this.client.timeoutMs
    while (this.assigned.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      await this.heartbeat(null)
    }
    // none yet (e.g. a killed member still holds them until its session times out): fetch() waits for one
  }

  private async heartbeat(topics: string[] | null): Promise<void> {
    const res = await shareGroupHeartbeat.async(await this.client.coordinator(), this.client.group, this.memberId, this.epoch, topics)
    check(res.error, `joining share group ${this.client.group}`)
    this.epoch = res.memberEpoch
    if (res.assignment) this.assigned = res.assignment.filter((a) => a.topicId === this.topicId).flatMap((a) => a.partitions)
    clearTimeout(this.beat)
    if (this.epoch >= 0)
      this.beat = setTimeout(() => {
        this.heartbeat(null).catch(() => {})
      }, res.intervalMs).unref()
  }

  /** Settle one record; the acknowledgement is sent with the next fetch, or by flush(). */
  settle(r: ShareRecord, how: 'accept' | 'release' | 'reject'): void {
    const leader = this.leaders.get(r.partition) ?? -1
    const perLeader = this.pendingAcks.get(leader) ?? new Map<number, AckBatch[]>()
    this.pendingAcks.set(leader, perLeader)
    perLeader.set(r.partition, [...(perLeader.get(r.partition) ?? []), {first: r.offset, last: r.offset, type: AckType[how]}])
  }

  private takeAcks(leader: number): Array<{topicId: string; partitions: Array<{partition: number; batches: AckBatch[]}>}> {
    const per = this.pendingAcks.get(leader)
    this.pendingAcks.delete(leader)
    if (!per || per.size === 0) return []
    return [{topicId: this.topicId, partitions: [...per].map(([partition, batches]) => ({partition, batches}))}]
  }

  /** Acquire up to maxRecords (from every leader of an assigned partition), sending pending acknowledgements; waits maxWaitMs when none is assigned. */
  async fetch(maxRecords: number, maxWaitMs: number): Promise<ShareRecord[]> {
    const byLeader = new Map<number, number[]>()
    for (const p of this.assigned) {
      const l = this.leaders.get(p) ?? -1
      byLeader.set(l, [...(byLeader.get(l) ?? []), p])
    }
    if (byLeader.size === 0) {
      await new Promise((resolve) => setTimeout(resolve, maxWaitMs))
      return []
    }
    const out: ShareRecord[] = []
    for (const [leader, partitions] of byLeader) {
      const s = this.sessions.get(leader) ?? {epoch: 0, partitions: []}
      const acks = this.takeAcks(leader)
      // the session follows the assignment: new partitions are added, revoked ones forgotten
      const added = s.epoch === 0 ? partitions : partitions.filter((p) => !s.partitions.includes(p))
      const gone = s.epoch === 0 ? [] : s.partitions.filter((p) => !partitions.includes(p))
      const res = await shareFetch.async(await this.client.node(leader), {
        group: this.client.group,
        memberId: this.memberId,
        sessionEpoch: s.epoch,
        maxWaitMs,
        maxRecords,
        topics: added.length > 0 ? [{topicId: this.topicId, partitions: added}] : [],
        acks,
        forget: gone.length > 0 ? [{topicId: this.topicId, partitions: gone}] : [],
      })
      check(res.error, `fetching from share group ${this.client.group}`)
      this.sessions.set(leader, {epoch: s.epoch + 1, partitions})
      this.lockTimeoutMs = res.lockTimeoutMs
      for (const t of res.topics)
        for (const p of t.partitions) {
          check(p.error, `share partition ${this.topic}-${p.partition}`)
          check(p.ackError, `acknowledging on ${this.topic}-${p.partition}`)
          out.push(...acquiredRecords(p.partition, p.batches, p.acquired))
        }
    }
    return out
  }

  /** Send every pending acknowledgement now (ShareAcknowledge), and wait for the broker's answer. */
  async flush(): Promise<void> {
    for (const leader of [...this.pendingAcks.keys()]) {
      const acks = this.takeAcks(leader)
      if (acks.length === 0) continue
      const s = this.sessions.get(leader)
      if (!s) throw new Error('acknowledging before any fetch from this leader')
      const res = await shareAcknowledge.async(await this.client.node(leader), this.client.group, this.memberId, s.epoch, acks)
      this.sessions.set(leader, {...s, epoch: s.epoch + 1})
      check(res.error, `acknowledging to share group ${this.client.group}`)
      for (const p of res.partitions) check(p.error, `acknowledging on ${this.topic}-${p.partition}`)
    }
  }

  /** Leave the group: acquired records not acknowledged go back to the others (released by the broker). */
  async leave(): Promise<void> {
    if (this.epoch < 0) return
    clearTimeout(this.beat)
    await this.flush().catch(() => {})
    for (const [leader, s] of this.sessions) {
      await shareAcknowledge.async(await this.client.node(leader), this.client.group, this.memberId, -1, []).catch(() => {})
      s.epoch = 0
    }
    this.epoch = -1
    await shareGroupHeartbeat.async(await this.client.coordinator(), this.client.group, this.memberId, -1, null).catch(() => {})
  }
}

/** The records of a share fetch that this member acquired (a batch may hold records others hold). */
export function acquiredRecords(partition: number, batches: RecordsBatch[], acquired: Array<{first: bigint; last: bigint; deliveryCount: number}>): ShareRecord[] {
  const out: ShareRecord[] = []
  for (const b of batches) {
    for (const r of b.records) {
      const offset = b.firstOffset + BigInt(r.offsetDelta)
      const range = acquired.find((a) => a.first <= offset && offset <= a.last)
      if (!range) continue
      out.push({
        partition,
        offset,
        deliveryCount: range.deliveryCount,
        key: r.key ?? null,
        value: r.value ?? null,
        headers: r.headers,
        timestamp: b.firstTimestamp + r.timestampDelta,
      })
    }
  }
  return out
}
