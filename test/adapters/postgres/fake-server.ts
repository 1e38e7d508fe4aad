// A PostgreSQL server that asks for a password and refuses every one (28P01): the real test server
// trusts 127.0.0.1, so a wrong password can only be shown this way.
import net from 'node:net'

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`, 'utf8'),
    Buffer.from([0]),
  ])
  const head = Buffer.alloc(5)
  head.write('E', 0)
  head.writeInt32BE(fields.length + 4, 1)
  return Buffer.concat([head, fields])
}

export async function refusingServer(): Promise<{port: number; close(): Promise<void>}> {
  const server = net.createServer((socket) => {
    let startup = true
    socket.on('data', () => {
      if (startup) {
        startup = false
        const ask = Buffer.alloc(9)
        ask.write('R', 0)
        ask.writeInt32BE(8, 1)
        ask.writeInt32BE(3, 5) // AuthenticationCleartextPassword
        socket.write(ask)
        return
      }
      socket.end(errorResponse('28P01', 'password authentication failed for user "qc_user"'))
    })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {port, close: () => new Promise((resolve) => server.close(() => resolve()))}
}
