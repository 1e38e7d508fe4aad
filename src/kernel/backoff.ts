// Retry delays: exponential with jitter ("equal jitter" from the AWS architecture blog), so a burst
// of failures does not come back as a synchronised burst of retries.

export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number
  /** Cap on any delay. */
  maxMs: number
  /** Growth per attempt. Default 2. */
  factor?: number
  /** Fraction of the delay that is randomised, 0..1. Default 0.5. */
  jitter?: number
}

export const DEFAULT_BACKOFF: BackoffOptions = {initialMs: 1000, maxMs: 60_000, factor: 2, jitter: 0.5}

/** Between tries while a broker is away (a restart, a network blip): 100 ms doubling to 2 s, half of it random. */
export const OUTAGE_BACKOFF: BackoffOptions = {initialMs: 100, maxMs: 2000, factor: 2, jitter: 0.5}

/** Re-dialling a dropped AMQP connection: each try is a TCP + TLS + login handshake, so it starts slower (200 ms → 3 s). */
export const REDIAL_BACKOFF: BackoffOptions = {initialMs: 200, maxMs: 3000, factor: 2, jitter: 0.5}

/** Calls a broker throttled or failed transiently (SQS): 100 ms doubling to 5 s, all of it random ("full jitter"). */
export const THROTTLE_BACKOFF: BackoffOptions = {initialMs: 100, maxMs: 5000, factor: 2, jitter: 1}

/** Delay before retrying after the `attempt`-th delivery failed (attempt ≥ 1). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const factor = options.factor ?? 2
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5))
  const base = Math.min(options.maxMs, options.initialMs * factor ** Math.max(0, attempt - 1))
  return Math.round(base * (1 - jitter) + base * jitter * random())
}

/** Waits `ms`; `unref`: a process that has nothing else to do does not stay up for it. */
export function sleep(ms: number, unref = false): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms)
    if (unref) timer.unref()
  })
}
