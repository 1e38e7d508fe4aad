// The result of a bench run as a plain, versioned JSON document (--json, --out, --compare), built
// from one agent's outcome or the merge of several.
import {summarize, type LatencySummary} from './histogram.js'
import type {BenchPlan} from './plan.js'
import type {RunOutcome} from './run.js'

export const RESULT_FORMAT = 'queuectl-bench/1'

/** What the run was: which broker and queue, how many agents, the plan. */
export interface ResultMeta {
  runId: string
  broker: string
  transport: string
  queue: string
  agents: number
  plan: BenchPlan
}

export interface BenchResult extends ResultMeta {
  format: typeof RESULT_FORMAT
  /** True when the run was interrupted (Ctrl-C) or an agent did not report: numbers cover part of it. */
  partial: boolean
  startedAt: string
  /** From the first send to the last processed message. */
  durationMs: number
  sent: number
  processed: number
  /** Sent messages never processed (by any agent). */
  lost: number
  /** Sequence numbers processed more than once. */
  duplicates: number
  redeliveries: number
  errors: number
  /** Batches sent again after a connection failure (their duplicates show in `duplicates`). */
  resent?: number
  lastError?: string
  /** Enqueue throughput, messages/s. */
  enqueueRate: number
  /** Processing throughput (unique messages/s, first send to last processed). */
  throughput: number
  latency: LatencySummary
  /** Messages on the queue that were not this run's (another producer is using it). */
  foreign?: number
}

/** Builds the result; `outcomes` are every agent's (one when alone), already merged into the first. */
export function buildResult(meta: ResultMeta, merged: RunOutcome, sentTotal: number, sendFailedTotal: number, partial: boolean): BenchResult {
  const start = merged.startedAt
  const sendSpan = Math.max(1, merged.lastSendAt - start)
  const doneSpan = Math.max(1, merged.lastDoneAt - start)
  const unique = merged.tracker.unique
  const expected = sentTotal
  return {
    format: RESULT_FORMAT,
    partial,
    ...meta,
    startedAt: new Date(start).toISOString(),
    durationMs: Math.round(doneSpan),
    sent: sentTotal,
    processed: unique,
    lost: Math.max(0, expected - unique),
    duplicates: merged.tracker.duplicates,
    redeliveries: merged.redeliveries,
    errors: merged.errors + (sendFailedTotal > 0 && merged.errors === 0 ? 1 : 0),
    ...(merged.resent > 0 ? {resent: merged.resent} : {}),
    ...(merged.lastError ? {lastError: merged.lastError} : {}),
    enqueueRate: Math.round((sentTotal * 1000) / sendSpan),
    throughput: merged.lastDoneAt > 0 ? Math.round((unique * 1000) / doneSpan) : 0,
    latency: summarize(merged.histogram),
    ...(merged.foreign > 0 ? {foreign: merged.foreign} : {}),
  }
}
