// Follows the connection's status (the client reconnects by itself): consumers ask whether it is
// up and wait for it to come back, for as long as they were told to.
import type {NatsConnection} from '@nats-io/transport-node'

type Listener = (up: boolean) => void

export class ConnectionWatch {
  up = true
  closed = false
  private readonly listeners = new Set<Listener>()

  constructor(nc: NatsConnection) {
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.set(false)
        else if (s.type === 'reconnect') this.set(true)
      }
    })().catch(() => {})
    void nc.closed().then(() => {
      this.closed = true
      this.set(false)
    })
  }

  private set(up: boolean): void {
    if (this.up === up && !this.closed) return
    this.up = up
    for (const l of [...this.listeners]) l(up)
  }

  /** Calls `listener` on every change; returns the unsubscribe. */
  on(listener: Listener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Resolves true once the connection is up again, false after `ms` (or when it closed for good). */
  waitUp(ms: number, signal?: {aborted: boolean}): Promise<boolean> {
    if (this.up) return Promise.resolve(true)
    return new Promise((resolve) => {
      const finish = (ok: boolean) => {
        clearTimeout(timer)
        off()
        resolve(ok)
      }
      const timer = setTimeout(() => finish(false), ms)
      const off = this.on((up) => {
        if (up) finish(true)
        else if (this.closed || signal?.aborted) finish(false)
      })
    })
  }
}
