#!/usr/bin/env node
// Bundles the TUI (src/tui/app.tsx with Ink, React and their dependencies) into ONE file,
// dist/tui/app.js, replacing tsc's output of that module: `queue top` then loads one file
// instead of ~150 modules, which is most of its start-up time. The rest of src/ (core helpers the
// TUI imports) stays external and is loaded from dist/ as usual, so classes like UserError are
// the same objects in the bundle and outside it.
import {build} from 'esbuild'
import {readFile} from 'node:fs/promises'
import {dirname, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tuiSrc = resolve(root, 'src/tui')
// the build's dist/ by default; benchmarks bundle into a copy of their own
const outDir = resolve(process.argv[2] ?? resolve(root, 'dist'))

/** Relative imports that leave src/tui stay imports, rewritten relative to dist/tui/app.js. */
const keepOutsideTuiExternal = {
  name: 'keep-outside-tui-external',
  setup(b) {
    b.onResolve({filter: /^\.\.?\//}, (args) => {
      if (!args.importer.startsWith(root + '/src/')) return undefined
      const target = resolve(dirname(args.importer), args.path)
      if (target.startsWith(tuiSrc + '/')) return undefined
      let path = relative(tuiSrc, target)
      if (!path.startsWith('.')) path = `./${path}`
      return {path, external: true}
    })
    // Ink loads its devtools only under DEV=true; they need react-devtools-core, which we do not ship
    b.onResolve({filter: /\/devtools\.js$/}, (args) => (args.importer.includes('/ink/') ? {path: 'ink-devtools', namespace: 'empty'} : undefined))
    b.onLoad({filter: /.*/, namespace: 'empty'}, () => ({contents: 'export {}', loader: 'js'}))
  },
}

// Ink memoizes text measurement and wrapping in module-level caches that never shrink: a
// dashboard whose numbers change every second adds entries forever (a leak over hours). Bound
// them: clearing costs one re-measure of the current frame.
const CACHE_LIMIT = 4096
const boundInkCaches = {
  name: 'bound-ink-caches',
  setup(b) {
    b.onLoad({filter: /[\\/]ink[\\/]build[\\/](measure-text|wrap-text)\.js$/}, async (args) => {
      let text = await readFile(args.path, 'utf8')
      const patched = text
        .replace('cache.set(text, dimensions);', `if (cache.size >= ${CACHE_LIMIT}) cache.clear();\n    cache.set(text, dimensions);`)
        .replace('const cache = {};', 'let cache = {};\nlet cacheSize = 0;')
        .replace('cache[cacheKey] = wrappedText;', `if (++cacheSize > ${CACHE_LIMIT}) { cache = {}; cacheSize = 1; }\n    cache[cacheKey] = wrappedText;`)
      if (patched === text || (args.path.endsWith('wrap-text.js') && !patched.includes('cacheSize = 1'))) {
        throw new Error(`${args.path} changed: update the cache patch in scripts/bundle-tui.mjs`)
      }
      text = patched
      return {contents: text, loader: 'js'}
    })
  },
}

// yoga-layout's Emscripten loader fetch()es its own base64 data: URL, which makes Node load its
// whole fetch implementation (undici) at start-up; decoding the base64 directly gives the same
// bytes without it.
const yogaWithoutFetch = {
  name: 'yoga-without-fetch',
  setup(b) {
    b.onLoad({filter: /[\\/]yoga-layout[\\/].*yoga-wasm-base64-esm\.js$/}, async (args) => {
      const text = await readFile(args.path, 'utf8')
      const pattern = /return (\w+)\|\|"function"!=typeof fetch\?Promise\.resolve\(\)/
      if (!pattern.test(text)) throw new Error(`${args.path} changed: update the fetch patch in scripts/bundle-tui.mjs`)
      return {contents: text.replace(pattern, 'return true||"function"!=typeof fetch?Promise.resolve()'), loader: 'js'}
    })
  },
}

const started = Date.now()
const result = await build({
  entryPoints: [resolve(tuiSrc, 'app.tsx')],
  outfile: resolve(outDir, 'tui/app.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  // BUNDLE_MINIFY=0 keeps names readable in a CPU profile
  minify: process.env.BUNDLE_MINIFY !== '0',
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  // React's production build: no dev-only checks at run time
  define: {'process.env.NODE_ENV': '"production"'},
  // CommonJS dependencies (React, signal-exit…) call require() for Node built-ins
  banner: {js: "import {createRequire as __queuectlCreateRequire} from 'node:module';const require=__queuectlCreateRequire(import.meta.url);"},
  plugins: [keepOutsideTuiExternal, boundInkCaches, yogaWithoutFetch],
})
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
console.log(`bundled the TUI into ${relative(root, resolve(outDir, 'tui/app.js'))}: ${(bytes / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`)
