// Ink and React are loaded by `queue top` only: no other source file imports them, and the top
// command imports the TUI lazily, so other commands' start-up does not pay for it.
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'
import {describe, expect, it} from 'vitest'

const src = fileURLToPath(new URL('../../src/', import.meta.url))

function files(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []))
}

const STATIC_IMPORT = /^\s*import\s[^;]*?from\s+['"]([^'"]+)['"]/gm

describe('where Ink and React are imported', () => {
  it('only under src/tui/', () => {
    const offenders = files(src)
      .filter((f) => !relative(src, f).startsWith('tui/'))
      .filter((f) => [...readFileSync(f, 'utf8').matchAll(STATIC_IMPORT)].some((m) => /^(ink|react)(\/|$)/.test(m[1]!) && !/^\s*import\s+type\s/.test(m[0])))
      .map((f) => relative(src, f))
    expect(offenders).toEqual([])
  })

  it('the top command loads the TUI with a dynamic import, and statically only what has no Ink in it', () => {
    const top = readFileSync(join(src, 'commands/top.ts'), 'utf8')
    expect(top).toContain("import('../tui/app.js')")
    const staticTui = [...top.matchAll(STATIC_IMPORT)].map((m) => m[1]!).filter((p) => p.startsWith('../tui/'))
    for (const path of staticTui) {
      const file = readFileSync(join(src, path.replace(/^\.\.\//, '').replace(/\.js$/, '.ts')), 'utf8')
      expect([...file.matchAll(STATIC_IMPORT)].map((m) => m[1]!).filter((p) => /^(ink|react)/.test(p) || p.includes('components') || p.includes('hooks'))).toEqual([])
    }
  })
})
