// Shell completion (issue 23): the script bash sources, driven as bash drives it at a TAB, against
// the real CLI on PATH: commands, topics, flags, context names from the config file, and queue names
// from the cache the last listing of a target wrote.
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {cachedQueues, rememberQueues} from '../../src/services/queue-cache.js'
import {BIN, isolatedHome, runCli} from '../helpers/cli.js'

const home = isolatedHome()
const bin = join(home.HOME!, 'bin')
const env = {...process.env, ...home, PATH: `${bin}:${process.env.PATH}`}

/** What bash offers after `words` (the last one being typed), through `source <(queue completion bash)`, with the variables bash sets at a TAB. */
function tab(...words: string[]): string[] {
  const line = ['queue', ...words].join(' ')
  // COMP_WORDS as bash splits them: ':' is a word of its own (it is in COMP_WORDBREAKS)
  const split = ['queue', ...words.flatMap((w) => w.split(/(:)/).filter((p, i, all) => p !== '' || i === all.length - 1))]
  const quote = (w: string) => `'${w.replaceAll("'", "'\\''")}'`
  const script = `source <(queue completion bash) && COMP_LINE=${quote(line)} && COMP_POINT=${line.length} && COMP_WORDS=(${split.map(quote).join(' ')}) && COMP_CWORD=${split.length - 1} && _queue_complete && printf '%s\\n' "\${COMPREPLY[@]}"`
  const r = spawnSync('bash', ['-c', script], {env, encoding: 'utf8', timeout: 30_000})
  expect(r.status, r.stderr).toBe(0)
  return r.stdout.split('\n').filter(Boolean)
}

beforeAll(async () => {
  mkdirSync(bin)
  writeFileSync(join(bin, 'queue'), `#!/bin/sh\nexec node ${JSON.stringify(BIN)} "$@"\n`)
  chmodSync(join(bin, 'queue'), 0o755)
  for (const [name, url] of [['prod-eu', 'memory://a'], ['local', 'memory://b']]) expect((await runCli(['context', 'add', name!, url!], {env: home})).code).toBe(0)
}, 30_000)

describe('queue completion bash', () => {
  it('completes commands and topics', () => {
    expect(tab('')).toEqual(expect.arrayContaining(['inspect', 'enqueue', 'context', 'top', 'completion']))
    expect(tab('insp')).toEqual(['inspect'])
    expect(tab('context', '')).toEqual(['add', 'list', 'remove', 'use'])
  })

  it("completes a command's own flags", () => {
    expect(tab('inspect', '--pe')).toEqual(['--peek'])
    expect(tab('enqueue', 'q', '--cont')).toEqual(['--content-type', '--context'])
    expect(tab('context', 'list', '--')).not.toContain('--url')
  })

  it('completes context names after --context and for context use/remove, from the config file', () => {
    expect(tab('inspect', '--context', '')).toEqual(['local', 'prod-eu'])
    expect(tab('top', '--context', 'pr')).toEqual(['prod-eu'])
    expect(tab('context', 'use', '')).toEqual(['local', 'prod-eu'])
    expect(tab('context', 'remove', 'l')).toEqual(['local'])
  })

  it('zsh gets the same function through bashcompinit; an unknown shell is exit 2', async () => {
    expect((await runCli(['completion', 'zsh'], {env: home})).stdout).toMatch(/bashcompinit[\s\S]*complete -o default -F _queue_complete queue/)
    const r = await runCli(['completion', 'fish'], {env: home})
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/no completion for "fish" — give bash or zsh/)
  })
})

describe('queue names at a TAB, from the last listing of the target (no broker asked)', () => {
  // the list suites' db, shared with unique names and never flushed (the spare db 12 is, by
  // large-keyspace.test.ts): our two queues are deleted after
  const url = 'redis://127.0.0.1:6379/9'
  const p = `cmpl${process.pid}`
  const [orders, emails] = [`list:${p}-orders`, `list:${p}-emails`]
  const cache = join(home.HOME!, '.cache', 'queuectl', 'queues.json')
  afterAll(async () => {
    for (const q of [orders, emails]) await runCli(['delete', q, '--yes', '--url', url], {env: home})
  })

  it('offers the names inspect listed, for every queue argument, by --url, --context and the current context', async () => {
    expect(tab('purge', '--url', url, '')).toEqual([]) // nothing listed yet from this home
    expect((await runCli(['enqueue', orders, '{}', '--url', url], {env: home})).code).toBe(0)
    expect((await runCli(['enqueue', emails, '{}', '--url', url], {env: home})).code).toBe(0)
    expect((await runCli(['inspect', '--url', url], {env: home})).code).toBe(0)
    expect(tab('purge', '--url', url, '')).toEqual(expect.arrayContaining([emails, orders]))
    // bash replaces what follows the word's last ':' with the candidate
    expect(tab('purge', '--url', url, `list:${p}-o`)).toEqual([`${p}-orders`])
    expect(tab('purge', '--url', url, `list:${p}`)).toEqual([`${p}-emails`, `${p}-orders`])
    expect((await runCli(['context', 'add', 'rd', url], {env: home})).code).toBe(0)
    expect(tab('move', '--context', 'rd', orders, `list:${p}-e`)).toEqual([`${p}-emails`])
    expect(tab('find', '--context', 'rd', emails, `list:${p}`)).toEqual([`${p}-emails`, `${p}-orders`])
    expect(tab('top', '--url', url, '--queue', `list:${p}-e`)).toEqual([`${p}-emails`])
    expect(tab('job', 'show', '--url', url, emails, '')).toEqual([]) // the job id: nothing to offer
    expect((await runCli(['context', 'use', 'rd'], {env: home})).code).toBe(0)
    expect(tab('inspect', `list:${p}-e`)).toEqual([`${p}-emails`])
    expect(tab('inspect', '--url', 'redis://127.0.0.1:6379/7', '')).toEqual([]) // another target: its own names
  })

  it('reads only the cache: a target that is down still completes, instantly', () => {
    const down = 'redis://127.0.0.1:1/0'
    writeFileSync(cache, JSON.stringify({targets: {[down]: {at: Date.now(), queues: ['list:from-cache']}}}))
    const started = Date.now()
    expect(tab('purge', '--url', down, '')).toEqual(['list:from-cache'])
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('keys the cache by the URL without its secrets', async () => {
    const path = join(home.HOME!, 'secret-cache.json')
    await rememberQueues('redis://user:s3cret-pw@127.0.0.1:1/0', ['list:a'], path)
    expect(readFileSync(path, 'utf8')).not.toContain('s3cret-pw')
    expect(await cachedQueues('redis://user:s3cret-pw@127.0.0.1:1/0', path)).toEqual(['list:a'])
    expect(await cachedQueues('redis://user:other@127.0.0.1:1/0', path)).toEqual(['list:a']) // the same target
  })
})
