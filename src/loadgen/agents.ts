// Several bench processes (--agents N --run-id X) coordinate through the broker under test, with
// no server of our own: each announces itself on QUEUE.join and peeks that queue until N have
// joined (the order of their random ids gives each an index; the first leads), all start at one
// agreed time, and each non-leader posts its counts, encoded histogram and sequence bitsets on
// QUEUE.results, where the leader collects and merges them.
import {randomBytes} from 'node:crypto'
import type {Broker} from '../broker/contract.js'
import {InterruptedError, NotSupportedError, UsageError} from '../kernel/errors.js'
import {decodeHistogram, encodeIntoCompressedBase64} from './histogram.js'
import {clock} from './payload.js'
import type {RunOutcome} from './run.js'
import type {ExportedSeen} from './tracker.js'

export interface AgentRole {
  index: number
  leader: boolean
  agents: number
  /** Epoch ms at which every agent starts producing. */
  startAt?: number
}

const JOIN_TIMEOUT_MS = 120_000
const START_MARGIN_MS = 2000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export async function joinAgents(broker: Broker, queue: string, runId: string, agents: number, stop?: AbortSignal): Promise<AgentRole> {
  const caps = await broker.capabilitiesOf()
  if (caps.peek === 'none') {
    throw new NotSupportedError(`--agents needs a broker that can peek; ${broker.transport} cannot — run one agent per queue instead`)
  }
  const joinQueue = `${queue}.join`
  if (caps.create) await broker.createQueue(joinQueue)
  const id = randomBytes(8).toString('hex')
  await broker.enqueue(joinQueue, [{payload: JSON.stringify({type: 'join', runId, id, at: clock()}), contentType: 'application/json'}])
  const until = Date.now() + JOIN_TIMEOUT_MS
  for (;;) {
    if (stop?.aborted) throw new InterruptedError(`interrupted while waiting for agents of run ${runId}`)
    const peeked = await broker.peek(joinQueue, {limit: agents * 2 + 10})
    const joined = new Map<string, number>()
    for (const m of peeked) {
      try {
        const j = JSON.parse(m.payload.toString('utf8')) as {type?: string; id?: string; at?: number; runId?: string}
        if (j.type === 'join' && j.runId === runId && typeof j.id === 'string' && typeof j.at === 'number') joined.set(j.id, j.at)
      } catch {
        // not ours: ignore
      }
    }
    if (joined.size > agents) {
      throw new UsageError(`${joined.size} agents joined run ${runId} but --agents is ${agents} — a stale run with this id? use a new --run-id`)
    }
    if (joined.size === agents) {
      const ids = [...joined.keys()].sort()
      const index = ids.indexOf(id)
      return {index, leader: index === 0, agents, startAt: Math.max(...joined.values()) + START_MARGIN_MS}
    }
    if (Date.now() > until) {
      throw new UsageError(`only ${joined.size} of ${agents} agents joined run ${runId} within ${JOIN_TIMEOUT_MS / 1000}s — start the others with the same --url, --agents and --run-id`)
    }
    await sleep(200)
  }
}

interface ResultPart {
  type: 'result'
  index: number
  part: number
  parts: number
  data: string
}

interface AgentReport {
  sent: number
  sendFailed: number
  processed: number
  redeliveries: number
  errors: number
  resent?: number
  foreign: number
  startedAt: number
  lastSendAt: number
  lastDoneAt: number
  partial: boolean
  lastError?: string
  histogram: string
  seen: ExportedSeen
}

export async function publishAgentResult(broker: Broker, queue: string, role: AgentRole, outcome: RunOutcome): Promise<void> {
  if (role.leader) return
  const resultQueue = `${queue}.results`
  const caps = await broker.capabilitiesOf()
  if (caps.create) await broker.createQueue(resultQueue)
  const report: AgentReport = {
    sent: outcome.sent, sendFailed: outcome.sendFailed, processed: outcome.processed, redeliveries: outcome.redeliveries,
    errors: outcome.errors, resent: outcome.resent, foreign: outcome.foreign, startedAt: outcome.startedAt, lastSendAt: outcome.lastSendAt,
    lastDoneAt: outcome.lastDoneAt, partial: outcome.partial, lastError: outcome.lastError,
    histogram: encodeIntoCompressedBase64(outcome.histogram), seen: outcome.tracker.export(),
  }
  const text = JSON.stringify(report)
  const chunk = Math.min(caps.maxPayloadBytes ?? 1e6, 1e6) - 1024 // room for the part envelope
  const parts = Math.max(1, Math.ceil(text.length / chunk))
  const messages = Array.from({length: parts}, (_, part) => ({
    payload: JSON.stringify({type: 'result', index: role.index, part, parts, data: text.slice(part * chunk, (part + 1) * chunk)} satisfies ResultPart),
    contentType: 'application/json',
  }))
  for (let i = 0; i < messages.length; i += 10) await broker.enqueue(resultQueue, messages.slice(i, i + 10))
}

/** The leader: collect every other agent's report and merge it into its own outcome. */
export async function mergeAgentResults(
  broker: Broker,
  queue: string,
  role: AgentRole,
  own: RunOutcome,
  force: AbortSignal | undefined,
  note: (line: string) => void,
): Promise<{outcome: RunOutcome; sent: number; sendFailed: number; missing: number}> {
  const resultQueue = `${queue}.results`
  if ((await broker.capabilitiesOf()).create) await broker.createQueue(resultQueue)
  const parts = new Map<number, string[]>()
  const complete = new Set<number>()
  const subscription = await broker.consume(
    resultQueue,
    (lease) => {
      try {
        const p = JSON.parse(lease.message.payload.toString('utf8')) as ResultPart
        if (p.type === 'result') {
          const list = parts.get(p.index) ?? new Array<string>(p.parts)
          list[p.part] = p.data
          parts.set(p.index, list)
          if (list.filter((x) => x !== undefined).length === p.parts) complete.add(p.index)
        }
      } catch {
        // not a result part
      }
      void lease.ack()
    },
    {prefetch: 100},
  )
  const until = Date.now() + 60_000 + own.histogram.maxValue / 1000
  while (complete.size < role.agents - 1 && Date.now() < until && !force?.aborted) await sleep(100)
  await subscription.close()
  const missing = role.agents - 1 - complete.size
  if (missing > 0) note(`${missing} agent(s) did not report in time: the merged result is partial`)
  let sent = own.sent
  let sendFailed = own.sendFailed
  for (const index of complete) {
    const r = JSON.parse(parts.get(index)!.join('')) as AgentReport
    own.histogram.add(decodeHistogram(r.histogram))
    own.tracker.merge(r.seen)
    sent += r.sent
    sendFailed += r.sendFailed
    own.redeliveries += r.redeliveries
    own.errors += r.errors
    own.resent += r.resent ?? 0
    own.foreign += r.foreign
    own.processed += r.processed
    own.startedAt = Math.min(own.startedAt, r.startedAt)
    own.lastSendAt = Math.max(own.lastSendAt, r.lastSendAt)
    own.lastDoneAt = Math.max(own.lastDoneAt, r.lastDoneAt)
    own.partial ||= r.partial
    own.lastError ??= r.lastError
  }
  if ((await broker.capabilitiesOf()).delete) await Promise.all([`${queue}.join`, resultQueue].map((q) => broker.deleteQueue(q).catch(() => {})))
  return {outcome: own, sent, sendFailed, missing}
}
