// Making and removing queues: the one path `queue create`, `queue delete` and every `--create`
// (enqueue, work, move, import) go through. The settings a new queue takes are the ones its
// transport's descriptor declares (`createOptions`); any other is refused before the broker is asked.
import type {Broker, QueueOptions} from '../../broker/contract.js'
import {capabilitiesFor, requireCapability} from '../../broker/kit/guard.js'
import type {CreateOption} from '../../broker/descriptor.js'
import {CREATE_OPTIONS, transportNamed} from '../../adapters/registry.js'
import {NotFoundError, UsageError} from '../../kernel/errors.js'
import {checkCount, parseDuration} from '../../kernel/units.js'

/**
 * The settings given (flag name → the flag's raw value; undefined: not given), checked against
 * what `transport` declares and converted: integers checked, durations in ms.
 */
export function queueOptionsFor(transport: string, given: Record<string, unknown>): QueueOptions {
  const declared = transportNamed(transport)?.createOptions ?? []
  const out: Record<string, string | number | boolean> = {}
  for (const [name, raw] of Object.entries(given)) {
    if (raw === undefined) continue
    const option = declared.find((o) => o.name === name)
    if (!option) throw new UsageError(notDeclared(transport, name, declared))
    out[name] = convert(option, raw)
  }
  return out
}

function notDeclared(transport: string, name: string, declared: readonly CreateOption[]): string {
  const where = CREATE_OPTIONS.find((o) => o.name === name)?.transports ?? []
  const takes = declared.length ? `it takes ${declared.map((o) => `--${o.name}`).join(', ')}` : 'it takes no settings (create only registers the name)'
  const other = where.length ? ` (--${name} is for ${where.join(', ')})` : ''
  return `--${name} is not a setting of ${transport} queues${other} — ${takes}`
}

function convert(option: CreateOption, raw: unknown): string | number | boolean {
  const flag = `--${option.name}`
  switch (option.kind) {
    case 'boolean':
      return Boolean(raw)
    case 'integer': {
      const text = String(raw).trim()
      if (!/^\d+$/.test(text)) throw new UsageError(`${flag} ${text} is not a whole number — give one such as 10`)
      return checkCount(Number(text), flag)
    }
    case 'duration':
      return parseDuration(String(raw), flag, {timer: false})
    case 'choice': {
      const text = String(raw)
      if (!option.values?.includes(text)) throw new UsageError(`${flag} ${text} is not one of ${option.values?.join(', ')} — pick one of those`)
      return text
    }
    default: {
      const text = String(raw)
      if (text.trim() === '') throw new UsageError(`${flag} is empty — give a name`)
      return text
    }
  }
}

/** Makes `queue` with `options`, or refuses where the queue (or the broker's new queues) cannot be made. */
export async function makeQueue(broker: Broker, queue: string, options: QueueOptions = {}): Promise<void> {
  // a queue not made yet gets what a new queue gets
  requireCapability(await capabilitiesFor(broker, queue), 'create', queue, broker)
  await broker.createQueue(queue, options)
}

/** Whether `queue` exists: its stats answer (a NotFoundError says no; other errors are thrown). */
export async function queueExists(broker: Broker, queue: string): Promise<boolean> {
  try {
    await broker.stats(queue)
    return true
  } catch (error) {
    if (error instanceof NotFoundError) return false
    throw error
  }
}

/** Removes `queue` and everything the broker keeps for it, or refuses where it cannot be deleted; a missing queue is exit 4. */
export async function removeQueue(broker: Broker, queue: string): Promise<void> {
  await broker.stats(queue)
  requireCapability(await broker.capabilitiesOf(queue), 'delete', queue, broker)
  await broker.deleteQueue(queue)
}
