// Shell completion (issue 23): the script bash sources, driven as bash drives it at a TAB, against
// the real CLI on PATH: commands, topics, flags, and context names from the config file.
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'
import {BIN, isolatedHome, runCli} from '../helpers/cli.js'

const home = isolatedHome()
const bin = join(home.HOME!, 'bin')
const env = {...process.env, ...home, PATH: `${bin}:${process.env.PATH}`}

/** What bash offers after `words` (the last one being typed), through `source <(queue completion bash)`. */
function tab(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w.replaceAll("'", "'\\''")}'`).join(' ')
  const script = `source <(queue completion bash) && COMP_WORDS=(queue ${quoted}) && COMP_CWORD=${words.length} && _queue_complete && printf '%s\\n' "\${COMPREPLY[@]}"`
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
