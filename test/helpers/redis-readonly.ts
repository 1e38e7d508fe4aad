// Shared by the +@read tests: a snapshot of a whole (private) Redis server and the write commands
// MONITOR saw, to show a read-only command changed nothing and sent no write.
import type {Redis} from 'ioredis'

/** Every key with its type and DUMP, to compare the whole server before and after. */
export async function snapshot(client: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for await (const keys of client.scanStream({count: 1000})) {
    // a key with a TTL (the worker's stalled-check) may expire meanwhile: that is not a write
    for (const key of keys as string[]) if ((await client.pttl(key)) === -1) out[key] = `${await client.type(key)}:${((await client.dumpBuffer(key)) ?? Buffer.alloc(0)).toString('hex')}`
  }
  return out
}

const WRITE = /^"?(eval|evalsha|eval_ro|evalsha_ro|fcall|multi|exec|hset|hmset|hsetnx|hdel|hincrby|set|setnx|setex|del|unlink|rpop|lpop|lpush|rpush|lrem|lmove|rpoplpush|zadd|zrem|zincrby|sadd|srem|xadd|xack|xdel|xgroup|xclaim|xautoclaim|xreadgroup|xtrim|expire|pexpire|persist|rename|script|publish)"?\b/i

/** The write commands among MONITOR lines (`args.join(' ')`). */
export function writesIn(monitorLog: string[]): string[] {
  return monitorLog.filter((line) => WRITE.test(line))
}

/** Starts MONITOR on a duplicate of `admin`; stop() ends it and returns every command seen. */
export async function watchCommands(admin: Redis): Promise<{stop(): Promise<string[]>}> {
  const log: string[] = []
  const monitor = await admin.monitor()
  monitor.on('monitor', (_time: string, args: string[]) => log.push(args.join(' ')))
  return {
    stop: async () => {
      await new Promise((resolve) => setTimeout(resolve, 200))
      monitor.disconnect()
      return log
    },
  }
}
