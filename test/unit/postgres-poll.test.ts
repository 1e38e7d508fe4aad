// The PostgreSQL poll loop: its lease sweep waits one period (our own leases cannot have expired
// at start, and on graphile it scans the task's rows before the first fetch could run).
import {describe, expect, it} from 'vitest'
import {pollConsumer} from '../../src/adapters/postgres/poll.js'
import type {Lease} from '../../src/broker/contract.js'

describe('postgres pollConsumer', () => {
  it('fetches first and sweeps only once a sweep period has passed', async () => {
    const calls: string[] = []
    const sub = pollConsumer<number>({
      fetch: async (n) => {
        calls.push(`fetch ${n}`)
        return []
      },
      lease: () => ({}) as Lease,
      giveBack: async () => {},
      sweep: async () => void calls.push('sweep'),
      sweepEveryMs: 250,
      wrap: (e) => e as Error,
    }, () => {}, {prefetch: 4})
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(calls[0]).toBe('fetch 4')
    expect(calls).not.toContain('sweep')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(calls).toContain('sweep')
    await sub.close()
  })
})
