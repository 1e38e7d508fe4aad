// One queue's capabilities for the detail view: read once per broker and queue, then cached (they
// do not change while the screen runs). A failed read is forgotten, so the next one tries again.
import {useEffect, useState} from 'react'
import type {Broker, Capabilities} from '../../broker/contract.js'

const cache = new WeakMap<Broker, Map<string, Promise<Capabilities>>>()

/** The cached read of `queue`'s capabilities on `broker`. */
export function queueCapabilities(broker: Broker, queue: string): Promise<Capabilities> {
  let byQueue = cache.get(broker)
  if (!byQueue) cache.set(broker, (byQueue = new Map()))
  let read = byQueue.get(queue)
  if (!read) {
    read = broker.capabilitiesOf(queue)
    byQueue.set(queue, read)
    read.catch(() => byQueue.delete(queue))
  }
  return read
}

/** undefined until read (or while the read fails); `token` changing reads again after a failure. */
export function useQueueCapabilities(broker: Broker | undefined, queue: string | undefined, token = 0): Capabilities | undefined {
  const [found, setFound] = useState<{broker: Broker; queue: string; caps: Capabilities}>()
  useEffect(() => {
    if (!broker || queue === undefined) return
    let cancelled = false
    queueCapabilities(broker, queue).then(
      (caps) => !cancelled && setFound({broker, queue, caps}),
      () => {},
    )
    return () => {
      cancelled = true
    }
  }, [broker, queue, token])
  return found && found.broker === broker && found.queue === queue ? found.caps : undefined
}
