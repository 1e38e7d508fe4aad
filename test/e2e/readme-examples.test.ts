// Every README example runs as written (issue 23): each ```sh block before the generated command
// reference carries <!-- readme-example: run --> or <!-- readme-example: not run — why -->, and
// each line of a "run" block is executed through a `queue` on PATH and must exit 0.
import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, inject, it} from 'vitest'
import {BIN, isolatedHome} from '../helpers/cli.js'
import {PrivateRedis, freePort} from '../reliability/harness.js'

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
const guide = README.slice(0, README.indexOf('<!-- commands -->'))

interface Block {line: number; note: string | undefined; lines: string[]}

function blocks(): Block[] {
  const found: Block[] = []
  const rows = guide.split('\n')
  for (let i = 0; i < rows.length; i++) {
    if (rows[i] !== '```sh') continue
    const end = rows.indexOf('```', i + 1)
    const note = /^<!-- readme-example: (.+) -->$/.exec(rows[i - 1] ?? '')?.[1]
    found.push({line: i + 1, note, lines: rows.slice(i + 1, end).filter((l) => l.trim() && !l.startsWith('#'))})
    i = end
  }
  return found
}

describe('README examples', () => {
  it('every sh block says whether the suite runs it, and why not when it does not', () => {
    const all = blocks()
    expect(all.length).toBeGreaterThan(5)
    for (const b of all) {
      expect(b.note, `README.md line ${b.line}: add <!-- readme-example: run --> or <!-- readme-example: not run — why --> above the block`).toBeDefined()
      expect(b.note!, `README.md line ${b.line}`).toMatch(/^run\b|^not run — \S.{10,}/)
    }
    expect(all.filter((b) => b.note!.startsWith('run')).length).toBeGreaterThanOrEqual(2)
  })

  describe('the blocks marked run, against brokers of the suite', () => {
    let redis: PrivateRedis
    const dir = mkdtempSync(join(tmpdir(), 'queuectl-readme-'))
    const bin = join(dir, 'bin')
    const env = {...process.env, ...isolatedHome(), PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1'}
    beforeAll(async () => {
      redis = new PrivateRedis(await freePort())
      await redis.start()
      mkdirSync(bin)
      writeFileSync(join(bin, 'queue'), `#!/bin/sh\nexec node ${JSON.stringify(BIN)} "$@"\n`)
      chmodSync(join(bin, 'queue'), 0o755)
      writeFileSync(join(dir, 'jobs.ndjson'), ['{"to":"ada@example.com"}', '{"to":"grace@example.com"}'].join('\n') + '\n')
      writeFileSync(join(dir, 'job.schema.json'), JSON.stringify({type: 'object', properties: {to: {type: 'string'}}, required: ['to']}))
    }, 30_000)
    afterAll(async () => redis?.stop())

    /** The line as written, pointed at this suite's servers: a private Redis, the suite's SQS emulator. */
    function localised(line: string): string {
      const sqs = new URL(inject('sqsEndpoint'))
      return line.replaceAll('127.0.0.1:6379', `127.0.0.1:${redis.port}`).replaceAll('127.0.0.1:4566', sqs.host)
    }

    for (const b of blocks().filter((x) => x.note?.startsWith('run'))) {
      it(`README.md line ${b.line}: every line exits 0`, () => {
        for (const line of b.lines) {
          // the emulator start of the SQS block: the suite's emulator already runs
          if (/&\s*$/.test(line)) continue
          const r = spawnSync('bash', ['-o', 'pipefail', '-c', localised(line)], {cwd: dir, env, encoding: 'utf8', timeout: 60_000})
          expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(0)
        }
      }, 180_000)
    }
  })
})
