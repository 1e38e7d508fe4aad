// A loopback TCP proxy that can "kill the broker": after `cutAfterBytes` bytes from clients it
// drops every connection and refuses new ones until `restore()`. Bytes are forwarded untouched.
import {createConnection, createServer, type Server, type Socket} from 'node:net'

export interface TcpProxy {
  port: number
  /** Bytes forwarded client → server so far. */
  readonly forwarded: number
  /** Drop everything after this many more client bytes (undefined: never). */
  cutAfter(bytes: number | undefined): void
  readonly cut: boolean
  restore(): void
  close(): Promise<void>
}

export async function startTcpProxy(upstreamHost: string, upstreamPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let forwarded = 0
  let limit: number | undefined
  let cut = false
  const kill = () => {
    cut = true
    for (const s of sockets) s.destroy()
    sockets.clear()
  }
  const server: Server = createServer((client) => {
    if (cut) return void client.destroy()
    const upstream = createConnection({host: upstreamHost, port: upstreamPort})
    sockets.add(client).add(upstream)
    client.on('data', (chunk: Buffer) => {
      if (cut) return
      forwarded += chunk.length
      if (limit !== undefined && forwarded >= limit) return kill()
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => !cut && client.write(chunk))
    for (const s of [client, upstream]) {
      s.on('error', () => {})
      s.on('close', () => {
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      })
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as {port: number}).port,
    get forwarded() {
      return forwarded
    },
    get cut() {
      return cut
    },
    cutAfter(bytes) {
      limit = bytes === undefined ? undefined : forwarded + bytes
    },
    restore() {
      cut = false
      limit = undefined
    },
    async close() {
      kill()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
