// Acks of one consumer channel, sent once per event-loop turn instead of one frame per message:
// the oldest deliveries that are all settled go as one basic.ack with `multiple` (RabbitMQ settles
// every outstanding tag up to it), the acks behind a still-running message one by one, so a slow
// handler never holds back the others' prefetch slots. A multiple ack only ever covers tags this
// channel delivered and that are acked here or already settled on the broker (nack, direct ack):
// a message whose settle failed stays unsettled and blocks the prefix, never acked by accident.
import type {Channel, ConsumeMessage} from 'amqplib'

const UNSETTLED = 0
const ACK_PENDING = 1
/** Settled on the broker by a direct ack or nack: a multiple ack may pass over it. */
const SETTLED = 2

interface Delivery {
  msg: ConsumeMessage
  state: number
}

/** What nack and dead-letter settle through: the channel's own calls, marking the delivery settled. */
export interface DirectSettle {
  ack(msg: ConsumeMessage): void
  nack(msg: ConsumeMessage, allUpTo: boolean, requeue: boolean): void
}

export class AckBatcher {
  /** Deliveries in delivery-tag order, from `head` on; the settled front is dropped at each flush. */
  private deliveries: Delivery[] = []
  private head = 0
  private readonly byTag = new Map<number, Delivery>()
  private pending: Delivery[] = []
  private scheduled = false
  readonly direct: DirectSettle

  constructor(
    private readonly ch: Channel,
    private readonly open: () => boolean,
  ) {
    this.direct = {
      ack: (msg) => {
        ch.ack(msg)
        this.settled(msg)
      },
      nack: (msg, allUpTo, requeue) => {
        ch.nack(msg, allUpTo, requeue)
        this.settled(msg)
      },
    }
  }

  delivered(msg: ConsumeMessage): void {
    const d = {msg, state: UNSETTLED}
    this.deliveries.push(d)
    this.byTag.set(msg.fields.deliveryTag, d)
  }

  ack(msg: ConsumeMessage): void {
    const d = this.byTag.get(msg.fields.deliveryTag)
    if (!d) return this.ch.ack(msg)
    d.state = ACK_PENDING
    this.pending.push(d)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
  }

  private settled(msg: ConsumeMessage): void {
    const d = this.byTag.get(msg.fields.deliveryTag)
    if (d) d.state = SETTLED
  }

  /** Sends what is pending now (also before the channel is closed: its close must follow the acks). */
  flush(): void {
    this.scheduled = false
    if (this.pending.length === 0) return
    const pending = this.pending
    this.pending = []
    // the channel died: RabbitMQ requeued everything it had delivered, and its tags are void
    if (!this.open()) return
    let upTo: Delivery | undefined
    while (this.head < this.deliveries.length && this.deliveries[this.head]!.state !== UNSETTLED) {
      const d = this.deliveries[this.head++]!
      this.byTag.delete(d.msg.fields.deliveryTag)
      if (d.state === ACK_PENDING) upTo = d
      d.state = SETTLED
    }
    if (this.head > 1024 && this.head * 2 > this.deliveries.length) {
      this.deliveries = this.deliveries.slice(this.head)
      this.head = 0
    }
    try {
      if (upTo) this.ch.ack(upTo.msg, true)
      for (const d of pending) {
        if (d.state !== ACK_PENDING) continue
        this.ch.ack(d.msg)
        d.state = SETTLED
      }
    } catch {
      // the channel closed meanwhile: same as above
    }
  }
}
