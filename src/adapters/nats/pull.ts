// A pull session: one inbox subscription for the life of a subscription, pull requests
// ($JS.API.CONSUMER.MSG.NEXT) sent to it as the window frees, and the server's status replies
// (408 request timeout / 409 with Nats-Pending-Messages: how much of a request went unfilled).
// One inbox instead of a subscription per fetch: each fetch costs a SUB, an UNSUB and its set-up.
import {createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription} from '@nats-io/transport-node'

/** A delivered JetStream message and its acks (the +ACK protocol on its reply subject). */
export interface Delivered {
  subject: string
  seq: number
  data: Uint8Array
  headers?: MsgHdrs
  info: {deliveryCount: number; timestampMs: number}
  ack(): void
  nak(delayMs?: number): void
  working(): void
  term(): void
}

const enc = new TextEncoder()

/** $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (or the v2 form with domain and account). */
class DeliveredMsg implements Delivered {
  constructor(
    private readonly msg: Msg,
    readonly seq: number,
    readonly deliveryCount: number,
    readonly timestampMs: number,
  ) {}

  /** Its own fields: no second object a message. */
  get info(): {deliveryCount: number; timestampMs: number} {
    return this
  }

  get subject(): string {
    return this.msg.subject
  }

  get data(): Uint8Array {
    return this.msg.data
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers
  }

  ack(): void {
    this.msg.respond(ACK)
  }

  nak(delayMs?: number): void {
    this.msg.respond(delayMs && delayMs > 0 ? enc.encode(`-NAK ${JSON.stringify({delay: Math.round(delayMs * 1e6)})}`) : NAK)
  }

  working(): void {
    this.msg.respond(WPI)
  }

  term(): void {
    this.msg.respond(TERM)
  }
}

const ACK = enc.encode('+ACK')
const NAK = enc.encode('-NAK')
const WPI = enc.encode('+WPI')
const TERM = enc.encode('+TERM')

/**
 * The message's delivery facts from its ack subject, or undefined for a status. Read in place
 * (dot positions, one number each) rather than split: no array and nine strings a message.
 */
export function toDelivered(msg: Msg): Delivered | undefined {
  const reply = msg.reply
  if (!reply?.startsWith('$JS.ACK.')) return undefined
  // dots[k]: where token k+1 starts minus one; 9 tokens (v1) or 11+ (v2: domain and account hash)
  const dots: number[] = DOTS
  let n = 0
  for (let i = reply.indexOf('.'); i >= 0 && n < 12; i = reply.indexOf('.', i + 1)) dots[n++] = i
  const tokens = n + 1
  const at = tokens === 9 ? 4 : tokens >= 11 ? 6 : -1
  if (at < 0) return undefined
  return new DeliveredMsg(msg, token(reply, at + 1), token(reply, at), Math.floor(token(reply, at + 3) / 1e6))
}

/** Token k (k ≥ 1, not the last) of the subject toDelivered just scanned, as a number. */
function token(reply: string, k: number): number {
  return Number(reply.slice(DOTS[k - 1]! + 1, DOTS[k]))
}
/** Scratch for toDelivered's dot positions (synchronous, so one array serves every call). */
const DOTS: number[] = new Array<number>(12).fill(0)

export interface PullEvents {
  message(d: Delivered): void
  /** A status that ends the session (consumer deleted, bad request) or is worth a back-off (503). */
  trouble(code: number, description: string): void
  /** Some requested messages will not come (a request expired or was refused): pull again. */
  freed(): void
}

export class PullSession {
  /** Messages asked for and not yet delivered or given up. */
  requested = 0
  /** When a message or status last arrived. */
  lastActivity = Date.now()
  private readonly inbox: string
  private readonly sub: Subscription
  private readonly subject: string

  constructor(
    private readonly nc: NatsConnection,
    stream: string,
    consumer: string,
    private readonly expiresMs: number,
    private readonly on: PullEvents,
    apiPrefix = '$JS.API',
  ) {
    this.subject = `${apiPrefix}.CONSUMER.MSG.NEXT.${stream}.${consumer}`
    this.inbox = createInbox()
    this.sub = nc.subscribe(this.inbox, {callback: (err, msg) => (err ? on.trouble(500, err.message) : this.receive(msg))})
  }

  pull(n: number): void {
    this.nc.publish(this.subject, enc.encode(JSON.stringify({batch: n, expires: this.expiresMs * 1e6})), {reply: this.inbox})
    this.requested += n
  }

  /** Forgets every open request (the server lost them: a restart), so the next pull asks afresh. */
  reset(): void {
    this.requested = 0
  }

  close(): void {
    this.sub.unsubscribe()
  }

  private receive(msg: Msg): void {
    this.lastActivity = Date.now()
    const d = msg.subject === this.inbox ? undefined : toDelivered(msg)
    if (d) {
      this.requested = Math.max(0, this.requested - 1)
      return this.on.message(d)
    }
    const code = msg.headers?.code ?? 0
    const description = (msg.headers?.description ?? '').toLowerCase()
    if (code === 100) return // idle heartbeat
    const left = Number(msg.headers?.get('Nats-Pending-Messages') || 0)
    if (left > 0) this.requested = Math.max(0, this.requested - left)
    if (code === 408 || code === 404 || (code === 409 && /exceeded|batch completed|max/.test(description))) return this.on.freed()
    this.on.trouble(code, description)
  }
}
