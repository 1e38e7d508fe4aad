// job.message.body for handlers, the same on every broker: adapters fill it only where their
// format says JSON (BullMQ data, Celery args…), so the runtime decodes every other payload that
// parses as JSON, whatever its content type — lazily, so a handler that never reads it pays nothing.
import type {Message} from '../broker/contract.js'

// a JSON text starts with one of these (after white space); anything else is not worth a parse
const JSON_START = /^[\s]*[{["\d\-tfn]/

/** The payload decoded as JSON, or undefined when it is not JSON. */
export function decodeJsonBody(payload: Buffer): unknown {
  if (payload.length === 0) return undefined
  const text = payload.toString('utf8')
  if (!JSON_START.test(text)) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

/** Gives `message` a `body` (decoded on first read) unless its adapter already set one. */
export function withBody(message: Message): Message {
  if (message.body !== undefined) return message
  let decoded: {value: unknown} | undefined
  Object.defineProperty(message, 'body', {
    enumerable: true,
    configurable: true,
    get: () => (decoded ??= {value: decodeJsonBody(message.payload)}).value,
    set: (value: unknown) => (decoded = {value}),
  })
  return message
}
