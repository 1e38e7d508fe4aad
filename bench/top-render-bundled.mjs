#!/usr/bin/env node
// CPU a frame of the queue list (bench/top-render.ts), bundled as `queue top` ships (React's
// production build) with stock Ink and with the bundle's Ink patches (scripts/bundle-tui.mjs),
// colours on, interleaved; the hash of what was painted must be the same for both.
// Usage: node bench/top-render-bundled.mjs [frames=200] [runs=3]
import {execFileSync} from 'node:child_process'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {build} from 'esbuild'
import {inkBuildOptions, inkPlugins} from '../scripts/bundle-tui.mjs'

const frames = process.argv[2] ?? '200'
const runs = Number(process.argv[3] ?? 3)
const dir = mkdtempSync(join(tmpdir(), 'queuectl-top-render-'))
const entry = fileURLToPath(new URL('./top-render.ts', import.meta.url))
const variants = {'stock Ink': false, 'patched Ink': true}
for (const [name, frames] of Object.entries(variants)) {
  await build({...inkBuildOptions, minify: true, entryPoints: [entry], outfile: join(dir, `${frames}.mjs`), plugins: inkPlugins({frames})})
  variants[name] = join(dir, `${frames}.mjs`)
}
for (let i = 0; i < runs; i++) {
  for (const [name, file] of Object.entries(variants)) {
    const out = execFileSync(process.execPath, [file, frames], {encoding: 'utf8', env: {...process.env, FORCE_COLOR: '3'}})
    // the frames' own escape codes are in the output too: keep the summary line only
    console.log(`${name.padEnd(12)} ${/\d+ frames: .*/.exec(out)?.[0]}`)
  }
}
