// Capabilities are the one declaration of what a queue can do: every Redis flavor declares exactly
// the operations it implements, and a refusal names the queue and the capability's advice.
import {describe, expect, it} from 'vitest'
import {createBroker} from '../../src/adapters/registry.js'
import {FLAVORS} from '../../src/adapters/redis/flavors/index.js'
import {refuse} from '../../src/broker/capabilities.js'

describe('capabilities', () => {
  it.each(FLAVORS.map((f) => [f.kind, f] as const))('the %s flavor declares the operations it has, and only those', (_kind, flavor) => {
    const caps = flavor.capabilities
    expect({enqueue: caps.enqueue, consume: caps.consume, retry: caps.retry !== false, pause: caps.pause, create: caps.create, delete: caps.delete}).toEqual({
      enqueue: typeof flavor.enqueue === 'function',
      consume: typeof flavor.consume === 'function',
      retry: typeof flavor.retry === 'function',
      pause: typeof flavor.pause === 'function' && typeof flavor.resume === 'function',
      create: typeof flavor.create === 'function',
      delete: typeof flavor.delete === 'function',
    })
    expect(caps.inProcess).toBe(false)
    // a refused operation says what to do instead
    for (const op of ['retry', 'pause', 'consume', 'enqueue'] as const) if (!caps[op]) expect(caps.advice?.[op], `${flavor.kind} advice.${op}`).toBeTruthy()
  })

  it('the job libraries\' own workers consume their queues; RQ jobs are not enqueued by queuectl', () => {
    expect(FLAVORS.filter((f) => !f.capabilities.consume).map((f) => f.kind).sort()).toEqual(['asynq', 'celery', 'rq', 'sidekiq'])
    expect(FLAVORS.filter((f) => !f.capabilities.enqueue).map((f) => f.kind)).toEqual(['rq'])
  })

  it('pause is for bullmq, bull and asynq queues', () => {
    expect(FLAVORS.filter((f) => f.capabilities.pause).map((f) => f.kind).sort()).toEqual(['asynq', 'bull', 'bullmq'])
  })

  it('a refusal is one line naming the queue, what it cannot do and the advice', () => {
    const error = refuse('pause', 'list queue "jobs" on redis://h', {advice: {pause: 'stop its consumers'}})
    expect(error).toMatchObject({exitCode: 4, message: 'list queue "jobs" on redis://h cannot be paused or resumed — stop its consumers'})
    expect(refuse('retry', 'queue "q"', {}).message).toMatch(/^queue "q" cannot retry messages — \S/)
    expect(refuse('consume', 'queue "q"', {}).message).toMatch(/^queue "q" cannot be consumed by queuectl — \S/)
  })

  it('memory:// is in-process, retries dead messages, and refuses pause with its advice', async () => {
    const broker = await createBroker('memory://caps-unit', {timeoutMs: 1000})
    await broker.createQueue('q')
    expect(await broker.capabilitiesOf('q')).toMatchObject({inProcess: true, retry: {states: ['dead']}, pause: false, deadLetter: 'state', extend: true, consume: true, enqueue: true})
    await expect(broker.pause('q')).rejects.toMatchObject({exitCode: 4, message: expect.stringMatching(/^memory queue "q" cannot be paused or resumed — stop/)})
    await broker.deleteQueue('q')
    await broker.close()
  })
})
