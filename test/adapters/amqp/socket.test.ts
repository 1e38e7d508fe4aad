// The AMQP connection's socket sends the frames written in one turn as one writev (socket.ts):
// amqplib writes each frame on its own, and with no-delay each would be its own syscall and segment.
import {createServer, connect, type Socket} from 'node:net'
import type {ChannelModel} from 'amqplib'
import {afterEach, describe, expect, it} from 'vitest'
import {coalesceWrites} from '../../../src/adapters/amqp/socket.js'

const cleanups: Array<() => void> = []
afterEach(() => cleanups.splice(0).forEach((f) => f()))

async function socketPair(): Promise<{client: Socket; received: () => Buffer}> {
  const chunks: Buffer[] = []
  const server = createServer((s) => s.on('data', (d: Buffer) => chunks.push(d)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const client = connect({host: '127.0.0.1', port: (server.address() as {port: number}).port, noDelay: true})
  await new Promise((resolve) => client.once('connect', resolve))
  cleanups.push(() => {
    client.destroy()
    server.close()
  })
  return {client, received: () => Buffer.concat(chunks)}
}

/** Counts the socket's writes to the kernel (Node's _write and _writev) while `fn` runs and flushes. */
async function kernelWrites(client: Socket, fn: () => void): Promise<number> {
  const s = client as unknown as {_write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown}
  let calls = 0
  for (const name of ['_write', '_writev'] as const) {
    const original = s[name]
    s[name] = function (this: unknown, ...args: unknown[]) {
      calls++
      return original.apply(this, args)
    }
  }
  fn()
  await new Promise((resolve) => setTimeout(resolve, 50))
  return calls
}

describe('amqp socket writes', () => {
  it('frames written in one turn leave in one writev, all of them, in order', async () => {
    const {client, received} = await socketPair()
    coalesceWrites({connection: {stream: client}} as unknown as ChannelModel)
    const calls = await kernelWrites(client, () => {
      for (let i = 0; i < 100; i++) client.write(Buffer.alloc(21, i))
    })
    expect(calls).toBeLessThanOrEqual(2)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(received()).toEqual(Buffer.concat(Array.from({length: 100}, (_, i) => Buffer.alloc(21, i))))
    // the next turn's writes are not held back either
    const later = await kernelWrites(client, () => client.write(Buffer.alloc(10)))
    expect(later).toBe(1)
  })

  it('without it each frame is a write of its own (what the test above guards against)', async () => {
    const {client} = await socketPair()
    const calls = await kernelWrites(client, () => {
      for (let i = 0; i < 100; i++) client.write(Buffer.alloc(21, i))
    })
    expect(calls).toBeGreaterThan(50)
  })
})
