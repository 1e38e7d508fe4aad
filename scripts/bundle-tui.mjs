#!/usr/bin/env node
// Bundles the TUI (src/tui/app.tsx with Ink, React and their dependencies) into ONE file,
// dist/tui/app.js, replacing tsc's output of that module: `queue top` then loads one file
// instead of ~150 modules, which is most of its start-up time. The rest of src/ (core helpers the
// TUI imports) stays external and is loaded from dist/ as usual, so classes like UserError are
// the same objects in the bundle and outside it.
import {build} from 'esbuild'
import {dirname, relative, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const tuiSrc = resolve(root, 'src/tui')

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

const started = Date.now()
const result = await build({
  entryPoints: [resolve(tuiSrc, 'app.tsx')],
  outfile: resolve(root, 'dist/tui/app.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  minify: true,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  // React's production build: no dev-only checks at run time
  define: {'process.env.NODE_ENV': '"production"'},
  // CommonJS dependencies (React, signal-exit…) call require() for Node built-ins
  banner: {js: "import {createRequire as __queuectlCreateRequire} from 'node:module';const require=__queuectlCreateRequire(import.meta.url);"},
  plugins: [keepOutsideTuiExternal],
})
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
console.log(`bundled the TUI into dist/tui/app.js: ${(bytes / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`)
