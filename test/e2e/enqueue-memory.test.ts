// `enqueue` to memory:// succeeds (exit 0) but says the message dies with the process: the id it
// prints names nothing once the command has exited.
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

const env = isolatedHome()

describe('queue enqueue to memory://', () => {
  it('warns on stderr that the message is gone when the process exits, still exit 0', async () => {
    const r = await runCli(['enqueue', '--url', 'memory://', 'jobs', '{"a":1}'], {env})
    expect(r.code).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect(r.stderr.trim().split('\n')).toEqual([
      'warning: memory:// is in-process: the message lives only in this process and is gone now that it exits — enqueue to a broker URL (redis://, amqp://…) to keep messages',
    ])
  })

  it('with --json every line says inProcess: true (and stderr still warns)', async () => {
    const r = await runCli(['enqueue', '--url', 'memory://', 'jobs', '{"a":1}', '--count', '2', '--json'], {env})
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(2)
    for (const line of lines) expect(line).toMatchObject({queue: 'jobs', inProcess: true})
    expect(r.stderr).toMatch(/^warning: memory:\/\/ is in-process: the 2 messages live only in this process and are gone now that it exits/)
  })

  it('a broker that keeps messages gets no such warning', async () => {
    const r = await runCli(['enqueue', '--url', 'redis://127.0.0.1:6379/13', `list:enq-mem-${process.pid}`, 'x', '--json'], {env})
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout.trim())).not.toHaveProperty('inProcess')
    await runCli(['purge', '--url', 'redis://127.0.0.1:6379/13', `list:enq-mem-${process.pid}`, '--yes'], {env})
  })
})
