// The db of a Redis URL is selected on every connection, and a db the server lacks is refused
// (ioredis only emits an 'error' for a failed SELECT and carries on in db 0).
import {Redis} from 'ioredis'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {connectClient, createClient, targetOf} from '../../../src/adapters/redis/connection.js'
import {isolatedHome, runCli} from '../../helpers/cli.js'
import {killChildren, startCli} from '../../reliability/harness.js'
import {startRedis, type PrivateRedis} from './private-server.js'
import {DB, REDIS_HOST, openRedis} from './targets.js'

const env = isolatedHome()
const tag = `dbsel-${process.pid}-${Date.now().toString(36)}`

describe('the database of a Redis URL', () => {
  let raw: Redis
  let small: PrivateRedis
  beforeAll(async () => {
    raw = new Redis(`redis://${REDIS_HOST}/0`)
    small = await startRedis(['--databases', '2'])
  })
  afterAll(async () => {
    await raw.del(`${tag}-a`)
    await raw.srem('queuectl:lists', `${tag}-a`)
    raw.disconnect()
    killChildren()
    await small?.stop()
  })

  it('a db the server does not have is exit 4, naming how many it has, and nothing lands in db 0', async () => {
    const sent = await runCli(['enqueue', '--url', `redis://${REDIS_HOST}/99`, `list:${tag}-a`, '{"a":1}'], {env})
    expect(sent.code).toBe(4)
    expect(sent.stdout).toBe('')
    expect(sent.stderr.trim().split('\n')).toEqual([`Error: redis://${REDIS_HOST}/99: the server has 16 databases (0–15) — pick one of them`])
    expect(await raw.exists(`${tag}-a`)).toBe(0)
    expect(await raw.sismember('queuectl:lists', `${tag}-a`)).toBe(0)
    const listed = await runCli(['inspect', '--url', `redis://${REDIS_HOST}?db=99`], {env})
    expect(listed.code).toBe(4)
    expect(listed.stderr).toMatch(/the server has 16 databases \(0–15\)/)
  })

  it('the count is the server\'s own (a server started with --databases 2)', async () => {
    const r = await runCli(['inspect', '--url', `redis://127.0.0.1:${small.port}/2`], {env})
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/the server has 2 databases \(0–1\) — pick one of them/)
    expect((await runCli(['inspect', '--url', `redis://127.0.0.1:${small.port}/1`], {env})).code).toBe(0)
  })

  it('every connection of the broker is on the URL\'s db (SELECT applied), and writes land there', async () => {
    const url = new URL(`redis://${REDIS_HOST}/${DB.spare}`)
    const client = createClient(targetOf(url, {timeoutMs: 5000}), 5000)
    await connectClient(client, 5000, url.href)
    expect(String(await client.call('CLIENT', 'INFO'))).toMatch(new RegExp(`\\bdb=${DB.spare}\\b`))
    client.disconnect()
    const broker = await openRedis(`${url.href}?flavor=list`)
    try {
      await broker.enqueue(`list:${tag}-spare`, [{payload: 'x'}])
      const other = new Redis(`redis://${REDIS_HOST}/${DB.spare}`)
      expect(await other.llen(`${tag}-spare`)).toBe(1)
      other.disconnect()
      expect(await raw.exists(`${tag}-spare`)).toBe(0)
      await broker.deleteQueue(`list:${tag}-spare`)
    } finally {
      await broker.close()
    }
  })

  it('a BullMQ worker\'s own connections (blocking ones included) are on the URL\'s db too', async () => {
    const url = `redis://127.0.0.1:${small.port}/1`
    expect((await runCli(['enqueue', 'bullmq:dbsel', '{"a":1}', '--url', url], {env})).code).toBe(0)
    const w = startCli(['work', 'bullmq:dbsel', '--echo', '--json', '--url', url], env)
    await expect.poll(() => w.stdout(), {timeout: 20_000}).toMatch(/"event":"completed"/)
    const probe = new Redis({port: small.port, host: '127.0.0.1'})
    const clients = String(await probe.client('LIST')).trim().split('\n').filter((l) => !/ cmd=client\|list /.test(l))
    probe.disconnect()
    w.child.kill('SIGKILL')
    expect(clients.length).toBeGreaterThanOrEqual(2)
    for (const line of clients) expect(line).toMatch(/ db=1 /)
  })

  it('a cluster refuses a db other than 0, through redis+cluster:// and through one of its nodes', async () => {
    const seed = inject('redisClusterUrl')
    expect(seed, `the test cluster did not start: ${inject('redisClusterError')}`).not.toBe('')
    const node = {host: /^redis\+cluster:\/\/([^,/?]+)/.exec(seed)![1]}
    const viaCluster = await runCli(['inspect', '--url', `redis+cluster://${node.host}/3`], {env})
    expect(viaCluster.code).toBe(2)
    expect(viaCluster.stderr).toMatch(/Redis Cluster has only database 0 — drop the \/N/)
    const viaNode = await runCli(['inspect', '--url', `redis://${node.host}/3`], {env})
    expect(viaNode.code).toBe(2)
    expect(viaNode.stderr.trim().split('\n')).toEqual([
      `Error: redis://${node.host}/3 is a Redis Cluster node, and a cluster has only database 0 — drop the /3, or use redis+cluster:// for the cluster`,
    ])
  })
})
