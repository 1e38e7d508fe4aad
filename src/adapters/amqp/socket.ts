// amqplib writes every frame (each publish, each ack) to the socket on its own: with no-delay, one
// syscall and one TCP segment each, which on a busy machine costs more than the frame. Corking the
// socket at the first write of a turn and uncorking on the next tick sends the turn's frames as
// one writev, without delaying any of them past the code that wrote them.
import type {Socket} from 'node:net'
import type {ChannelModel} from 'amqplib'

export function coalesceWrites(conn: ChannelModel): void {
  const sock = (conn.connection as unknown as {stream?: Socket}).stream
  if (!sock || typeof sock.cork !== 'function') return
  const write = sock.write
  let corked = false
  const uncork = () => {
    corked = false
    sock.uncork()
  }
  sock.write = function (this: Socket, ...args: Parameters<Socket['write']>): boolean {
    if (!corked) {
      corked = true
      sock.cork()
      process.nextTick(uncork)
    }
    return write.apply(this, args)
  } as Socket['write']
}
