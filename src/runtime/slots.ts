// The worker's running jobs: a fixed pool of reused slots (the hot path allocates no Set or Map
// entry per job) and the leases that arrived ahead of a free slot, waiting in order.
import type {Lease} from '../broker/contract.js'
import {Fifo} from './fifo.js'
import type {Job} from './worker.js'

/** One running job. */
export interface Slot {
  lease: Lease | undefined
  job: Job | undefined
  startedAt: number
  /** Ticker counts (not clock reads) for timeouts and lease extension: cheaper per job. */
  startTick: number
  extendTick: number
  controller: AbortController | undefined
  /** Bumped each time the slot is freed, so a late handler result cannot settle a newer job. */
  gen: number
}

export class SlotPool {
  readonly slots: Slot[] = []
  /** Leases received while every slot was busy (the prefetch beyond the concurrency). */
  readonly buffer = new Fifo<Lease>()
  private readonly free: number[] = []
  private busy = 0

  constructor(size: number) {
    for (let i = size - 1; i >= 0; i--) {
      this.slots[i] = {lease: undefined, job: undefined, startedAt: 0, startTick: 0, extendTick: 0, controller: undefined, gen: 0}
      this.free.push(i)
    }
  }

  /** Jobs running now. */
  get running(): number {
    return this.busy
  }

  get hasFree(): boolean {
    return this.free.length > 0
  }

  /** Puts a job in a free slot (there must be one); returns the slot's index. */
  occupy(lease: Lease, job: Job, controller: AbortController | undefined, startedAt: number, tick: number): number {
    const index = this.free.pop()!
    const slot = this.slots[index]!
    slot.lease = lease
    slot.job = job
    slot.controller = controller
    slot.startedAt = startedAt
    slot.startTick = slot.extendTick = tick
    this.busy++
    return index
  }

  release(index: number): void {
    const slot = this.slots[index]!
    slot.gen++
    slot.lease = undefined
    slot.job = undefined
    slot.controller = undefined
    this.free.push(index)
    this.busy--
  }
}
