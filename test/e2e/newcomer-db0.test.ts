// Issue 23: a prompt names the Redis database even when the URL gives none (db 0), beside the
// URL; the URL itself (displayUrl) is left as the broker gives it.
import {afterAll, describe, expect, it} from 'vitest'
import {openBroker} from '../../src/adapters/registry.js'
import {targetName} from '../../src/services/target-name.js'
import {fullTarget} from '../../src/tui/rows.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const queue = `list:wt-newbie2-db0-${process.pid}`

afterAll(async () => {
  const broker = await openBroker('redis://127.0.0.1:6379', {timeoutMs: 5000})
  await broker.deleteQueue(queue).catch(() => {})
  await broker.close()
})

describe('the Redis db in prompts', () => {
  it('targetName adds (db 0) only to a Redis URL that names no database', () => {
    expect(targetName('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379 (db 0)')
    expect(targetName('rediss://u:***@h:6380/')).toBe('rediss://u:***@h:6380/ (db 0)')
    expect(targetName('redis://127.0.0.1:6379/13')).toBe('redis://127.0.0.1:6379/13')
    expect(targetName('redis://127.0.0.1:6379?db=4')).toBe('redis://127.0.0.1:6379?db=4')
    expect(targetName('redis+cluster://127.0.0.1:7000')).toBe('redis+cluster://127.0.0.1:7000')
    expect(targetName('amqp://guest:***@127.0.0.1:5672/')).toBe('amqp://guest:***@127.0.0.1:5672/')
    // the top detail header and its prompts
    expect(fullTarget('local', 'redis://127.0.0.1:6379')).toBe('local (redis://127.0.0.1:6379 (db 0))')
    expect(fullTarget(undefined, 'redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379 (db 0)')
  })

  it('purge without a terminal names db 0 in the refusal, and the dry run too', async () => {
    const broker = await openBroker('redis://127.0.0.1:6379', {timeoutMs: 5000})
    await broker.enqueue(queue, [{payload: '{"n":1}'}])
    await broker.close()
    const env = isolatedHome()
    const r = await runCli(['purge', queue, '--url', 'redis://127.0.0.1:6379'], {env, input: ''})
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`of "${queue}" on redis://127.0.0.1:6379 (db 0) without confirmation`)
    const dry = await runCli(['purge', queue, '--url', 'redis://127.0.0.1:6379', '--dry-run'], {env})
    expect(dry.stdout).toContain('on redis://127.0.0.1:6379 (db 0) (dry run')
    // a URL with its db is named as it is
    const named = await runCli(['purge', queue, '--url', 'redis://127.0.0.1:6379/0', '--dry-run'], {env})
    expect(named.stdout).toContain('on redis://127.0.0.1:6379/0 (dry run')
  })
})
