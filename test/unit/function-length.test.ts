// No function in src/ is over 80 lines (issues 14 and 24): a consume loop, a command or a
// component that long hides its rules. Measured as a reader sees it: the lines of a function's body, nested
// functions included, found with the TypeScript parser.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'

const ROOT = new URL('../../src/', import.meta.url).pathname
const MAX_LINES = 80

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

function longFunctions(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  const out: string[] = []
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const body = node.body as ts.Node
      const first = source.getLineAndCharacterOfPosition(body.getStart(source)).line
      const last = source.getLineAndCharacterOfPosition(body.end).line
      if (last - first + 1 > MAX_LINES) out.push(`${relative(ROOT, file)}:${first + 1} (${last - first + 1} lines)`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

describe('function length', () => {
  it(`no function under src/ (.ts and .tsx) is over ${MAX_LINES} lines`, () => {
    const files = sources(ROOT)
    expect(files.length).toBeGreaterThan(150)
    expect(files.some((file) => file.endsWith('.tsx'))).toBe(true)
    expect(files.flatMap(longFunctions)).toEqual([])
  })
})
