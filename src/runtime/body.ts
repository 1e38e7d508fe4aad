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

// One accessor pair shared by every message: a per-message closure gave each message a map of its
// own (V8 keys maps on the accessor functions), which cost ~2 µs and garbage per delivery.
const LAZY_BODY: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Message) {
    return settle(this, decodeJsonBody(this.payload))
  },
  set(this: Message, value: unknown) {
    settle(this, value)
  },
}

/** Replaces the lazy accessor with the value, so later reads are plain property loads. */
function settle(message: Message, value: unknown): unknown {
  Object.defineProperty(message, 'body', {value, writable: true, enumerable: true, configurable: true})
  return value
}

/** Gives `message` a `body` (decoded on first read) unless its adapter already set one. */
export function withBody(message: Message): Message {
  if (message.body !== undefined) return message
  Object.defineProperty(message, 'body', LAZY_BODY)
  return message
}
