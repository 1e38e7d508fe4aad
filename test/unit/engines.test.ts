// The Node floor is true: every package the lockfile installs (dev ones too: `npm ci` warns
// EBADENGINE for those) accepts the lowest Node that package.json engines allows, and CI runs
// the suite on each Node line README promises.
import {readFileSync} from 'node:fs'
import semver from 'semver'
import {describe, expect, it} from 'vitest'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const pkg = JSON.parse(read('package.json')) as {engines: {node: string}}
const lock = JSON.parse(read('package-lock.json')) as {packages: Record<string, {version?: string; engines?: {node?: string} | string[]}>}
const floor = semver.minVersion(pkg.engines.node)!.version
const ciLines = /^NODE_LINES="([\d ]+)"$/m.exec(read('.ci/run'))?.[1]?.split(' ').map(Number) ?? []

/** The lockfile packages whose declared Node range refuses `version`. */
function refusing(version: string): string[] {
  return Object.entries(lock.packages).flatMap(([path, entry]) => {
    const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node
    if (!path || !range || !semver.validRange(range)) return []
    return semver.satisfies(version, range) ? [] : [`${path}@${entry.version} wants node ${range}`]
  })
}

describe('Node floor', () => {
  it('package.json and its lockfile agree on engines', () => {
    expect(lock.packages['']!.engines).toEqual(pkg.engines)
  })

  it(`every locked package accepts the floor, Node ${floor}`, () => {
    expect(refusing(floor)).toEqual([])
  })

  it('CI runs every Node line from the floor up, and README says which', () => {
    expect(ciLines[0], '.ci/run NODE_LINES starts at the floor\'s major').toBe(semver.major(floor))
    expect(ciLines.length).toBeGreaterThanOrEqual(2)
    for (const line of ciLines) expect(semver.satisfies(`${line}.99.0`, pkg.engines.node), `Node ${line} is allowed`).toBe(true)
    const readme = read('README.md')
    expect(readme).toContain(`Node.js >= ${floor.replace(/\.0$/, '')}`)
    expect(readme).toContain(`CI runs the suite on Node ${ciLines.join(' and ')}`)
  })
})
