// The @platformatic/kafka clients one broker shares: an Admin, an idempotent Producer and a
// Consumer used only for low-level reads (Fetch, ListOffsets: it never joins a group). Each is
// made on first use; every request is bounded by the connect timeout.
import {Admin, Consumer, Producer} from '@platformatic/kafka'
import type {ConnectionOptions} from 'node:tls'
import {readFileSync} from 'node:fs'
import type {KafkaSettings} from './config.js'

export interface KafkaClients {
  admin: Admin
  producer: Producer
  reader: Consumer
}

/** Options every client takes: brokers, SASL, TLS, timeouts. */
export function baseOptions(settings: KafkaSettings, role: string) {
  const tls: ConnectionOptions | undefined = settings.ssl
    ? {ca: settings.tls?.caFile ? readFileSync(settings.tls.caFile) : undefined, rejectUnauthorized: !settings.tls?.insecure}
    : undefined
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers: settings.brokers,
    connectTimeout: settings.timeoutMs,
    timeout: Math.max(settings.timeoutMs, 5000),
    retries: 2,
    retryDelay: 200,
    // a missing topic is an error (exit 4), never a topic made behind the user's back
    autocreateTopics: false,
    ...(settings.sasl ? {sasl: {...settings.sasl}} : {}),
    ...(tls ? {tls} : {}),
  }
}

export class ClientSet {
  private cache: Partial<KafkaClients> = {}

  constructor(private readonly settings: KafkaSettings) {}

  get admin(): Admin {
    return (this.cache.admin ??= new Admin(baseOptions(this.settings, 'admin')))
  }

  get producer(): Producer {
    // idempotent: a retried produce is written once; acks=all (-1) comes with it
    return (this.cache.producer ??= new Producer({...baseOptions(this.settings, 'producer'), idempotent: true, acks: -1}))
  }

  get reader(): Consumer {
    return (this.cache.reader ??= new Consumer({...baseOptions(this.settings, 'reader'), groupId: 'queuectl-reader', autocommit: false}))
  }

  async close(): Promise<void> {
    const {admin, producer, reader} = this.cache
    this.cache = {}
    // Admin.close takes no force flag (a boolean there is taken for a callback)
    await Promise.allSettled([admin?.close(), producer?.close(true), reader?.close(true)])
  }
}
