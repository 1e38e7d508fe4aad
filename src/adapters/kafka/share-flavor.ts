// The share-group flavor in the kafka:// flavor table: `share:TOPIC/GROUP`. One ShareGroupClient per
// stats call or subscription, on the transport's own settings (bootstrap, SASL, TLS).
import type {ConnectionOptions, GroupBase} from '@platformatic/kafka'
import type {QueueRef} from '../../broker/contract.js'
import {ConnectionError, NotFoundError, NotSupportedError, UsageError} from '../../kernel/errors.js'
import {baseOptions} from './client.js'
import {requestError} from './errors.js'
import type {KafkaContext, KafkaFlavor} from './flavor.js'
import type {QueueName} from './names.js'
import {describeShareGroupOffsets} from './share-protocol.js'
import {COORDINATOR_BUSY, ShareGroupClient, ShareGroupError} from './share-group.js'
import {shareCapabilities, shareConsume, shareStats} from './share.js'

/** GROUP_ID_NOT_FOUND: a share group exists once a member joined it. */
const GROUP_ID_NOT_FOUND = 69

function connOptions(ctx: KafkaContext): ConnectionOptions {
  const {sasl, tls} = baseOptions(ctx.settings, 'share') as {sasl?: ConnectionOptions['sasl']; tls?: ConnectionOptions['tls']}
  return {...(sasl ? {sasl} : {}), ...(tls ? {tls} : {})}
}

function clientOf(ctx: KafkaContext, q: QueueName): ShareGroupClient {
  if (!q.group) throw new UsageError(`share queue "${q.text}" names no group — write share:TOPIC/GROUP (e.g. share:${q.topic}/workers)`)
  const [host, port] = ctx.settings.brokers[0]!.split(/:(?=\d+$)/) as [string, string]
  return new ShareGroupClient({host: host.replace(/^\[|\]$/g, ''), port: Number(port)}, q.group, ctx.settings.timeoutMs, connOptions(ctx))
}

function shareError(error: unknown, ctx: KafkaContext, q: QueueName): Error {
  if (error instanceof ShareGroupError && error.code === GROUP_ID_NOT_FOUND) {
    return new NotFoundError(
      `share group "${q.group}" does not exist on ${ctx.where} — it exists once a consumer joins it (queue work ${q.text}); kafka-share-groups --list shows the others`,
    )
  }
  if (error instanceof ShareGroupError && COORDINATOR_BUSY.has(error.code)) {
    return new ConnectionError(`${ctx.where} is still loading the coordinator of share group "${q.group}" (${error.message}) — try again in a moment`, true)
  }
  return requestError(error, ctx.where)
}

/** Every share group's topics, as share:TOPIC/GROUP. */
async function list(ctx: KafkaContext): Promise<QueueRef[]> {
  let groups: Map<string, GroupBase>
  try {
    groups = await ctx.clients.admin.listGroups({types: ['share']})
  } catch (error) {
    throw requestError(error, ctx.where)
  }
  const out: QueueRef[] = []
  for (const id of groups.keys()) {
    const client = clientOf(ctx, {kind: 'share', topic: '', group: id, text: `share:/${id}`})
    try {
      const [offsets] = await describeShareGroupOffsets.async(await client.coordinator(), id, null)
      for (const t of offsets?.topics ?? []) out.push({name: `share:${t.topic}/${id}`, kind: 'share'})
    } catch (error) {
      throw requestError(error, ctx.where)
    } finally {
      await client.close()
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

export const shareFlavor: KafkaFlavor = {
  kind: 'share',
  async capabilities(ctx, q) {
    if (!q) return shareCapabilities
    return {...shareCapabilities, maxPayloadBytes: await ctx.maxBytes(q.topic)}
  },
  list,
  async stats(ctx, q) {
    const client = clientOf(ctx, q)
    try {
      return await shareStats(client, `share:${q.topic}/${q.group}`, connOptions(ctx))
    } catch (error) {
      throw shareError(error, ctx, q)
    } finally {
      await client.close()
    }
  },
  async peek(_ctx, q) {
    throw new NotSupportedError(
      `${q.text}: a share group has no side-effect-free read of its records (a fetch acquires them) — peek the topic itself: queue inspect ${q.topic} --peek`,
    )
  },
  async purge(_ctx, q) {
    throw new NotSupportedError(
      `${q.text}: a share group's records belong to its topic — purge the topic (queue purge ${q.topic} --yes), or move the group's start offset with kafka-share-groups --reset-offsets`,
    )
  },
  async consume(ctx, q, handler, options) {
    const client = clientOf(ctx, q)
    try {
      return await shareConsume(client, `share:${q.topic}/${q.group}`, handler, options)
    } catch (error) {
      await client.close()
      throw shareError(error, ctx, q)
    }
  },
}
