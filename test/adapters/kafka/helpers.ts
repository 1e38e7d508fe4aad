// Kafka test helpers: the local broker started through scripts/kafka.sh (idempotent: a broker
// already on 9092 is used as it is), Kafka's own tools from the same classpath, fresh topics.
import {execFile} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {createBroker} from '../../../src/adapters/registry.js'
import type {Broker} from '../../../src/broker/contract.js'

const run = promisify(execFile)
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const SCRIPT = `${ROOT}scripts/kafka.sh`
export const BOOTSTRAP = process.env.KAFKA_BOOTSTRAP ?? '127.0.0.1:9092'
export const KAFKA_URL = `kafka://${BOOTSTRAP}`

/**
 * Starts the local broker if nothing answers on 9092 (first run: Maven resolves it, a minute or
 * two). Resolves with why it is missing, or undefined when it answers. In CI a missing broker fails.
 */
export async function ensureKafka(): Promise<string | undefined> {
  try {
    await run(SCRIPT, ['start'], {timeout: 300_000})
    return undefined
  } catch (error) {
    const why = `Kafka is not available (scripts/kafka.sh start failed: ${String((error as Error).message).split('\n')[0]})`
    if (process.env.CI) throw new Error(why)
    return why
  }
}

/** One of Kafka's own tools (aliases of scripts/kafka.sh tool), its stdout. */
export async function kafkaTool(tool: string, args: string[], timeout = 120_000): Promise<string> {
  const {stdout} = await run(SCRIPT, ['tool', tool, ...args], {timeout, maxBuffer: 32 * 1024 * 1024})
  return stdout
}

let n = 0
export const uniqueTopic = (hint: string) => `wt-kafka-${hint.replace(/[^A-Za-z0-9._-]/g, '-')}-${process.pid}-${Date.now() % 100000}-${n++}`

export async function createTopic(topic: string, partitions = 1, extra: string[] = []): Promise<string> {
  await kafkaTool('topics', ['--bootstrap-server', BOOTSTRAP, '--create', '--topic', topic, '--partitions', String(partitions), ...extra])
  return topic
}

export async function deleteTopic(topic: string): Promise<void> {
  await kafkaTool('topics', ['--bootstrap-server', BOOTSTRAP, '--delete', '--if-exists', '--topic', topic]).catch(() => {})
}

export async function openKafka(url = KAFKA_URL): Promise<Broker> {
  const broker = await createBroker(url, {timeoutMs: 10_000})
  await broker.connect()
  return broker
}
