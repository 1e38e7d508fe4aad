// What Bull's and BullMQ's job hashes (<prefix>:<queue>:<id>) hold alike: name, data, timestamp,
// delay, priority, failedReason; read the same way by both flavors.
import type {Message, MessageState} from '../../../broker/contract.js'

/** Priority (`fromLibrary` turns the library's number, 1 served first, into ours), due time and last failure. */
export function addJobSchedule(
  message: Message,
  job: {timestamp: number; delay: number; failedReason?: string},
  priority: number,
  fromLibrary: (p: number) => number,
): Message {
  if (priority > 0) message.priority = fromLibrary(priority)
  if (job.delay > 0 && Number.isFinite(job.timestamp)) message.availableAt = job.timestamp + job.delay
  if (job.failedReason) message.lastError = job.failedReason
  return message
}

/** A job hash the library itself cannot read (broken JSON): listed anyway, with the reason. `attempts` is the hash's count. */
export function undecodableJobHash(queue: string, id: string, state: MessageState, hash: Record<string, string>, reason: string, attempts: string | undefined): Message {
  return {
    id,
    queue,
    name: hash.name,
    payload: Buffer.from(hash.data ?? '', 'utf8'),
    headers: {},
    attempts: Number(attempts ?? 0) || 0,
    state,
    enqueuedAt: Number(hash.timestamp) || undefined,
    lastError: hash.failedReason,
    undecodable: reason,
    raw: hash,
  }
}
