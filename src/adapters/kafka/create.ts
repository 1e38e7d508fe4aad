// `queue create` on kafka://: the topic, with the settings the descriptor declares (--partitions,
// --replication-factor, --retention as retention.ms). A bare topic gets the cluster's defaults
// (num.partitions, default.replication.factor); an existing topic is kept as it is, and refused
// when settings were given for it (they would say something the topic does not have).
import type {Admin} from '@platformatic/kafka'
import type {QueueOptions} from '../../broker/contract.js'
import {UsageError} from '../../kernel/errors.js'
import {requestError} from './errors.js'

const ALREADY = /TOPIC_ALREADY_EXISTS/
const BAD_SETTING = /INVALID_REPLICATION_FACTOR|INVALID_PARTITIONS|INVALID_CONFIG|POLICY_VIOLATION/

const messages = (error: unknown): string => String((error as Error)?.message) + JSON.stringify((error as {errors?: unknown}).errors ?? '') + String((error as {cause?: Error}).cause?.message ?? '')

/** The settings given, by their flag names. */
const given = (options: QueueOptions): string[] => Object.keys(options).filter((k) => options[k] !== undefined).map((k) => `--${k}`)

/** Makes `topic` with `options` (see the head of this file); `where` names the broker in errors. */
export async function createTopic(admin: Admin, topic: string, options: QueueOptions, where: string): Promise<void> {
  const existing = await admin.listTopics({includeInternals: false}).catch((e) => Promise.reject(requestError(e, where)))
  if (existing.includes(topic)) {
    if (given(options).length) throw new UsageError(`topic "${topic}" exists already: ${given(options).join(', ')} set a new topic — drop them, or change it with kafka-configs / kafka-topics --alter`)
    return
  }
  const retention = options['retention']
  try {
    await admin.createTopics({
      topics: [topic],
      partitions: options['partitions'] === undefined ? -1 : Number(options['partitions']),
      replicas: options['replication-factor'] === undefined ? -1 : Number(options['replication-factor']),
      ...(retention === undefined ? {} : {configs: [{name: 'retention.ms', value: String(retention)}]}),
    })
  } catch (error) {
    const text = messages(error)
    if (ALREADY.test(text)) return
    if (BAD_SETTING.test(text)) {
      const why = (requestError(error, where) as Error).message
      throw new UsageError(`${where} refused topic "${topic}" with ${given(options).join(', ')}: ${why} — a replication factor is at most the number of brokers, partitions at least 1`)
    }
    throw requestError(error, where)
  }
}
