// The TUI bundle patches Ink's painting (scripts/bundle-tui.mjs: cross-frame caches, a fast
// tokenizer for ASCII lines, shared style arrays) to make a refresh cheaper. Patches of someone
// else's code must not change a single byte on the screen: the same frames are painted by a
// build with the patches and one without, and compared.
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: a plain .mjs build script without types
import {inkBuildOptions, inkPlugins} from '../../scripts/bundle-tui.mjs'

const entry = fileURLToPath(new URL('./fixtures/paint-frames.ts', import.meta.url))

async function paint(frames: boolean): Promise<string> {
  const outfile = join(mkdtempSync(join(tmpdir(), 'queuectl-ink-')), 'paint.mjs')
  await build({...inkBuildOptions, entryPoints: [entry], outfile, plugins: inkPlugins({frames})})
  // colours on, as on a terminal (the fixture's stdout is a pipe)
  return execFileSync(process.execPath, [outfile], {encoding: 'utf8', env: {...process.env, FORCE_COLOR: '3', NO_COLOR: ''}})
}

describe('the bundle’s Ink patches', () => {
  it('paint the same frames as stock Ink, byte for byte', async () => {
    const [stock, patched] = await Promise.all([paint(false), paint(true)])
    // the fixture did paint what it means to compare: colours, inverse, wide and non-ASCII text
    expect(stock).toContain('\u001B[33m')
    expect(stock).toContain('\u001B[7m')
    expect(stock).toContain('队列')
    expect(stock).toContain('café')
    expect(stock).toContain('TOTAL (8)')
    expect(patched).toBe(stock)
  }, 60_000)
})
