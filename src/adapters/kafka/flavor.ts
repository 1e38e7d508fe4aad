// The flavor table's shape: what one kind of Kafka queue does. A queue `KIND:REST` goes to the
// flavor of that kind; a bare name to the consumer-group flavor ('group'). Share groups
// (KIP-932) are another flavor beside it.
import type {Capabilities, ConsumeOptions, LeaseHandler, Message, MessageState, PeekOptions, QueueRef, QueueStats, Subscription} from '../../broker/contract.js'
import type {ClientSet} from './client.js'
import type {OutRecord} from './codec.js'
import type {KafkaSettings} from './config.js'
import type {QueueName} from './names.js'

/** What a flavor gets from the broker: settings, the shared clients, the shared producer. */
export interface KafkaContext {
  settings: KafkaSettings
  clients: ClientSet
  where: string
  publish(records: OutRecord[]): Promise<void>
  /** The topic's usable record size (max.message.bytes less overhead). */
  maxBytes(topic: string): Promise<number>
}

export interface KafkaFlavor {
  kind: string
  capabilities(ctx: KafkaContext, q?: QueueName): Promise<Capabilities>
  /** The queues of this flavor on the cluster. */
  list(ctx: KafkaContext): Promise<QueueRef[]>
  stats(ctx: KafkaContext, q: QueueName): Promise<QueueStats>
  peek(ctx: KafkaContext, q: QueueName, options: PeekOptions): Promise<Message[]>
  consume(ctx: KafkaContext, q: QueueName, handler: LeaseHandler, options: ConsumeOptions): Promise<Subscription>
  purge(ctx: KafkaContext, q: QueueName, state: MessageState): Promise<number>
}
