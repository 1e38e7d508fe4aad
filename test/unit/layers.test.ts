// The folders of src/ are layers; an import may only point down (or sideways within its own
// folder). Read off the sources, as a newcomer would read them: every relative import, static,
// dynamic or type-only.
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {dirname, join, normalize, relative} from 'node:path'
import {describe, expect, it} from 'vitest'

const SRC = new URL('../../src/', import.meta.url).pathname

/** Lower ranks are lower layers. Folders of the same rank do not import each other. */
const RANK: Record<string, number> = {
  kernel: 0,
  broker: 1,
  adapters: 2,
  services: 3,
  runtime: 4,
  loadgen: 5,
  tui: 5,
  cli: 6,
  commands: 7,
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

interface Edge {
  from: string
  to: string
}

function edges(): Edge[] {
  const out: Edge[] = []
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = normalize(join(dirname(file), match[1]!))
      out.push({from: relative(SRC, file), to: relative(SRC, target)})
    }
  }
  return out
}

const layerOf = (path: string) => path.split('/')[0]!
/** The transport folder an adapter file lives in (adapters/redis/flavors/list.ts → redis). */
const transportOf = (path: string) => (path.startsWith('adapters/') && path.split('/').length > 2 ? path.split('/')[1] : undefined)

describe('layers', () => {
  const all = edges()

  it('every folder of src/ has a rank (a new folder must be placed in a layer)', () => {
    const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory())
    expect(folders.filter((f) => RANK[f] === undefined)).toEqual([])
    expect(all.length).toBeGreaterThan(200)
  })

  it('imports point only down: no kernel → broker, broker → adapters, adapters → services, services → runtime/tui/cli…', () => {
    const upward = all.filter(({from, to}) => {
      const a = layerOf(from)
      const b = layerOf(to)
      if (a === b) return false
      return RANK[b]! >= RANK[a]!
    })
    expect(upward.map((e) => `${e.from} → ${e.to}`)).toEqual([])
  })

  it('an adapter imports no other transport (only the shared formats; the registry alone knows them all)', () => {
    const across = all.filter(({from, to}) => {
      const a = transportOf(from)
      const b = transportOf(to)
      return a !== undefined && b !== undefined && a !== b && b !== 'formats'
    })
    expect(across.map((e) => `${e.from} → ${e.to}`)).toEqual([])
  })

  it('nothing outside the registry imports a concrete adapter', () => {
    const concrete = all.filter(
      ({from, to}) => transportOf(to) !== undefined && transportOf(from) === undefined && from !== 'adapters/registry.ts',
    )
    expect(concrete.map((e) => `${e.from} → ${e.to}`)).toEqual([])
  })
})
