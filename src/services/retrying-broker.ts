// A broker that could not be reached when `top` started, among several: instead of failing the
// whole screen it shows as a stale row with the connection error, and each poll tries to open it
// again (at most one attempt at a time), so it recovers by itself like a broker that drops later.
import type {Broker} from '../broker/contract.js'
import {redactText} from '../kernel/redact.js'

export class RetryingBroker implements Broker {
  private inner: Broker | undefined
  private attempt: Promise<Broker> | undefined
  private lastError: unknown

  constructor(
    readonly displayUrl: string,
    readonly transport: string,
    firstError: unknown,
    private readonly open: () => Promise<Broker>,
  ) {
    this.lastError = firstError
  }

  private async broker(): Promise<Broker> {
    if (this.inner) return this.inner
    this.attempt ??= this.open().then(
      (b) => (this.inner = b),
      (error: unknown) => {
        this.lastError = error
        this.attempt = undefined
        throw new Error(redactText(String((error as Error)?.message ?? error)))
      },
    )
    return this.attempt
  }

  async connect(): Promise<void> {
    await this.broker()
  }

  /** Why the broker is not open yet. */
  get error(): unknown {
    return this.inner ? undefined : this.lastError
  }

  listQueues: Broker['listQueues'] = async () => (await this.broker()).listQueues()
  stats: Broker['stats'] = async (q) => (await this.broker()).stats(q)
  peek: Broker['peek'] = async (q, o) => (await this.broker()).peek(q, o)
  enqueue: Broker['enqueue'] = async (q, m, o) => (await this.broker()).enqueue(q, m, o)
  consume: Broker['consume'] = async (q, h, o) => (await this.broker()).consume(q, h, o)
  purge: Broker['purge'] = async (q, s) => (await this.broker()).purge(q, s)
  // every call opens the broker first: until it answers, each one fails with why it does not
  capabilitiesOf: Broker['capabilitiesOf'] = async (q) => (await this.broker()).capabilitiesOf(q)
  createQueue: Broker['createQueue'] = async (q, o) => (await this.broker()).createQueue(q, o)
  deleteQueue: Broker['deleteQueue'] = async (q) => (await this.broker()).deleteQueue(q)
  retry: Broker['retry'] = async (q, o) => (await this.broker()).retry(q, o)
  remove: Broker['remove'] = async (q, i, s) => (await this.broker()).remove(q, i, s)
  pause: Broker['pause'] = async (q) => (await this.broker()).pause(q)
  resume: Broker['resume'] = async (q) => (await this.broker()).resume(q)
  workers: Broker['workers'] = async (o) => (await this.broker()).workers(o)

  async close(): Promise<void> {
    // the opened broker is closed by the command that opened it
  }
}
