// The published package works on its own: `npm pack` → install into a clean prefix → `queue --help`.
import {execFile} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {afterAll, describe, expect, it} from 'vitest'

const run = promisify(execFile)
const root = new URL('../../', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'queuectl-pack-'))
afterAll(() => rmSync(work, {recursive: true, force: true}))

describe('npm pack', () => {
  it('gives a tarball that installs into a clean prefix and runs queue --help', async () => {
    // --ignore-scripts: dist/ is already built by `npm test`; rebuilding it here would pull it from under other tests
    const {stdout} = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {cwd: root})
    const [{filename, files}] = JSON.parse(stdout) as [{filename: string; files: {path: string}[]}]
    const paths = files.map((f) => f.path)
    expect(paths).toContain('bin/run.js')
    expect(paths).toContain('oclif.manifest.json')
    expect(paths.some((p) => p.startsWith('src/') || p.startsWith('test/'))).toBe(false)

    const prefix = join(work, 'prefix')
    await run('npm', ['install', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', join(work, filename)], {
      cwd: work,
      timeout: 240_000,
    })
    const help = await run(join(prefix, 'node_modules', '.bin', 'queue'), ['--help'], {cwd: work, env: {...process.env, NO_COLOR: '1'}})
    expect(help.stdout).toMatch(/USAGE\s+\$ queue/)
    expect(help.stdout).toMatch(/inspect/)
  }, 300_000)
})
