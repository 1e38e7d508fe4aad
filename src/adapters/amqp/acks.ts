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

/** One delivery of this channel (the consumer's lease itself: no object of its own). */
export interface Delivery {
  readonly msg: ConsumeMessage
  /** UNSETTLED, ACK_PENDING or SETTLED; starts UNSETTLED (0). */
  ackState: number
}

/** What nack and dead-letter settle through: the channel's own calls, marking the delivery settled. */
export interface DirectSettle {
  ack(d: Delivery): void
  nack(d: Delivery, requeue: boolean): void
}

export class AckBatcher {
  /** Deliveries in delivery-tag order, from `head` on; the settled front is dropped at each flush. */
  private deliveries: Delivery[] = []
  private head = 0
  private pending: Delivery[] = []
  private scheduled = false
  readonly direct: DirectSettle

  constructor(
    private readonly ch: Channel,
    private readonly open: () => boolean,
  ) {
    this.direct = {
      ack: (d) => {
        ch.ack(d.msg)
        d.ackState = SETTLED
      },
      nack: (d, requeue) => {
        ch.nack(d.msg, false, requeue)
        d.ackState = SETTLED
      },
    }
  }

  /** Takes a new delivery, in delivery-tag order (its ackState UNSETTLED). */
  delivered(d: Delivery): void {
    this.deliveries.push(d)
  }

  ack(d: Delivery): void {
    d.ackState = ACK_PENDING
    this.pending.push(d)
    if (!this.scheduled) {
      this.scheduled = true
      setImmediate(() => this.flush())
    }
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
    while (this.head < this.deliveries.length && this.deliveries[this.head]!.ackState !== UNSETTLED) {
      const d = this.deliveries[this.head++]!
      if (d.ackState === ACK_PENDING) upTo = d
      d.ackState = SETTLED
    }
    if (this.head > 1024 && this.head * 2 > this.deliveries.length) {
      this.deliveries = this.deliveries.slice(this.head)
      this.head = 0
    }
    try {
      if (upTo) this.ch.ack(upTo.msg, true)
      for (const d of pending) {
        if (d.ackState !== ACK_PENDING) continue
        this.ch.ack(d.msg)
        d.ackState = SETTLED
      }
    } catch {
      // the channel closed meanwhile: same as above
    }
  }
}
