// A whole `queue bench` session on one broker: set up the queue, run (alone or as one of several
// agents), build the result, clean up what we created.
import {readFile} from 'node:fs/promises'
import type {Broker} from '../broker/contract.js'
import {UsageError, isUserError} from '../kernel/errors.js'
import {formatCount, formatDuration} from '../kernel/units.js'
import {joinAgents, mergeAgentResults, publishAgentResult, type AgentRole} from './agents.js'
import {describePlan, type BenchPlan} from './plan.js'
import {buildResult, RESULT_FORMAT, type BenchResult} from './result.js'
import {runBench, type RunOutcome} from './run.js'
import {capabilitiesFor, requireCapability} from '../broker/kit/guard.js'

export interface SessionInput {
  broker: Broker
  plan: BenchPlan
  runId: string
  agents: number
  queue?: string
  keep: boolean
  body?: Buffer
  /** How long producers and consumers wait out a broker outage. */
  reconnectTimeoutMs?: number
  stop?: AbortSignal
  force?: AbortSignal
  /** The live status line. */
  onStatus?: (line: string) => void
  /** One-off notes for people (stderr). */
  onNote?: (line: string) => void
  color?: boolean
}

const int = formatCount

/** Resolves with the result, or undefined for an agent that is not the leader. */
export async function benchOnBroker(input: SessionInput): Promise<BenchResult | undefined> {
  const {broker, plan} = input
  const queue = input.queue ?? `queuectl-bench-${input.runId}`
  // before the queue is made or a message sent: a bench both enqueues and consumes (a queue not made yet gets what a new queue gets)
  const caps = await capabilitiesFor(broker, queue)
  for (const op of ['enqueue', 'consume'] as const) requireCapability(caps, op, queue, broker)
  const existed = await broker.stats(queue).then(
    () => true,
    (error) => {
      if (isUserError(error) && error.exitCode === 4) return false
      throw error
    },
  )
  // what a new queue gets: where queues are implicit (made by the first message), nothing to create
  if (!existed && (await broker.capabilitiesOf()).create) await broker.createQueue(queue)
  let role: AgentRole = {index: 0, leader: true, agents: 1}
  const cleanup = async () => {
    if (input.keep || existed || !role.leader) return
    const caps = await broker.capabilitiesOf(queue).catch(() => undefined)
    await (caps?.delete ? broker.deleteQueue(queue) : broker.purge(queue).then(() => undefined)).catch(() => {})
  }
  try {
    if (input.agents > 1) {
      input.onNote?.(`waiting for ${input.agents} agents of run ${input.runId} on ${broker.displayUrl}…`)
      role = await joinAgents(broker, queue, input.runId, input.agents, input.stop)
      input.onNote?.(`agent ${role.index + 1} of ${role.agents}${role.leader ? ' (leader: prints the merged report)' : ''}; starting together`)
    }
    input.onNote?.(`bench ${broker.displayUrl} queue ${queue}: ${describePlan(plan)}`)
    const outcome = await runBench({
      broker,
      queue,
      plan,
      agent: role.index,
      body: input.body,
      jsonPayloads: caps.payload === 'json',
      stop: input.stop,
      force: input.force,
      startAt: role.startAt,
      reconnectTimeoutMs: input.reconnectTimeoutMs,
      drainCheck: role.agents > 1 ? () => queueIsIdle(broker, queue) : undefined,
      onProgress: (p) =>
        input.onStatus?.(
          `${formatDuration(p.elapsedMs)}  sent ${int(p.sent)}  processed ${int(p.processed)}  ${int(p.rate)} msg/s  backlog ${int(Math.max(0, p.sent - p.processed))}`,
        ),
    })
    const meta = {runId: input.runId, broker: broker.displayUrl, transport: broker.transport, queue, agents: role.agents, plan}
    if (role.agents === 1) return buildResult(meta, outcome, outcome.sent, outcome.sendFailed, outcome.partial)
    await publishAgentResult(broker, queue, role, outcome)
    if (!role.leader) {
      input.onNote?.(`agent ${role.index + 1}: sent ${int(outcome.sent)}, processed ${int(outcome.processed)}; the leader prints the merged report`)
      return undefined
    }
    const merged = await mergeAgentResults(broker, queue, role, outcome, input.force, (line) => input.onNote?.(line))
    return buildResult(meta, merged.outcome, merged.sent, merged.sendFailed, outcome.partial || merged.missing > 0)
  } finally {
    await cleanup()
  }
}

async function queueIsIdle(broker: Broker, queue: string): Promise<boolean> {
  const stats = await broker.stats(queue).catch(() => undefined)
  if (!stats) return false
  const c = stats.counts
  return (c.waiting ?? 0) + (c.inflight ?? 0) + (c.delayed ?? 0) === 0
}

/** Reads a result written with --out (or --json). */
export async function loadResult(file: string): Promise<BenchResult> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch {
    throw new UsageError(`cannot read ${file} — give a file written by \`queue bench --out FILE\``)
  }
  let value: BenchResult
  try {
    value = JSON.parse(text) as BenchResult
  } catch {
    throw new UsageError(`${file} is not JSON — give a file written by \`queue bench --out FILE\``)
  }
  if (value?.format !== RESULT_FORMAT) throw new UsageError(`${file} is not a queue bench result (no "format": "${RESULT_FORMAT}")`)
  return value
}

export type {RunOutcome}
