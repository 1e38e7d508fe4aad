// MONITOR for tests that count a consumer's commands: on a plain socket, bracketed by sentinels so
// the lines a busy server sends late are still counted.
import {once} from 'node:events'
import {createConnection, type Socket} from 'node:net'
import {Redis} from 'ioredis'
import {REDIS_HOST} from './targets.js'

const [host, port] = REDIS_HOST.split(':') as [string, string]
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * MONITOR on a plain socket (ioredis's monitor() can fail with "Command queue state error" when
 * lines arrive with its OK on a busy server): each line's db, client and arguments, to `onLine`.
 */
async function monitorSocket(onLine: (db: number, source: string, args: string[]) => void): Promise<Socket> {
  const socket = createConnection({host, port: Number(port)})
  await once(socket, 'connect')
  let rest = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n')
    rest = lines.pop()!
    for (const line of lines) {
      const head = /^\+[\d.]+ \[(\d+) ([^\]]+)\] /.exec(line)
      if (!head) continue
      const args = [...line.slice(head[0].length).matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'))
      onLine(Number(head[1]), head[2]!, args)
    }
  })
  socket.write('MONITOR\r\n')
  return socket
}

/** Every command naming `key` while `work` runs, as [name, ...args]; `from` gets each one's client. */
export async function commandsOn(db: number, key: string, work: () => Promise<void>, from?: Map<string[], string>): Promise<string[][]> {
  const seen: string[][] = []
  const sentinel = `${key}:monitor-sentinel`
  let started = false
  let done = false
  const monitor = await monitorSocket((lineDb, source, args) => {
    if (args[1] === `${sentinel}:start`) started = true
    else if (args[1] === sentinel) done = true
    else if (lineDb === db && source !== 'lua' && args.some((a) => a.includes(key))) {
      seen.push(args)
      from?.set(args, source)
    }
  })
  const probe = new Redis({host, port: Number(port), db})
  try {
    // MONITOR lines lag on a busy server: wait for a command sent before the work, and one sent after
    for (let t = 0; !started && t < 200; t++) await Promise.all([probe.echo(`${sentinel}:start`), sleep(25)])
    await work()
    await probe.echo(sentinel)
    for (let t = 0; !done && t < 200; t++) await sleep(50)
  } finally {
    monitor.destroy()
    probe.disconnect()
  }
  return seen
}

