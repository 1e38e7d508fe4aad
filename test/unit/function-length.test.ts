// No function in the adapters is over 80 lines (issue 14): a consume loop that long hides its
// reliability rules. Measured as a reader sees it: the lines of a function's body, nested
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
    return name.endsWith('.ts') ? [path] : []
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
  it(`no function under src/adapters or src/broker is over ${MAX_LINES} lines`, () => {
    const files = [...sources(join(ROOT, 'adapters')), ...sources(join(ROOT, 'broker'))]
    expect(files.length).toBeGreaterThan(40)
    expect(files.flatMap(longFunctions)).toEqual([])
  })
})
