#!/usr/bin/env node
// Bundles the TUI (src/tui/app.tsx with Ink, React and their dependencies) into ONE file,
// dist/tui/app.js, replacing tsc's output of that module: `queue top` then loads one file
// instead of ~150 modules, which is most of its start-up time. The rest of src/ (core helpers the
// TUI imports) stays external and is loaded from dist/ as usual, so classes like UserError are
// the same objects in the bundle and outside it.
import {build} from 'esbuild'
import {readFile} from 'node:fs/promises'
import {dirname, relative, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

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
  },
}

// Ink loads its devtools only under DEV=true; they need react-devtools-core, which we do not ship
const withoutInkDevtools = {
  name: 'without-ink-devtools',
  setup(b) {
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

// Ink paints a frame by turning every line into styled characters and back (Output.get): with a
// fresh cache each frame, two short-lived objects and three Sets a cell, most of what a refresh
// of `queue top` costs. Same output, less work:
// - the caches of Output live across frames (bounded like the ones above): a row that did not
//   change is not re-tokenized;
// - the blank cells a frame starts from are one shared object, not 5,000 new ones;
// - ansi-tokenize gives consecutive characters of one style the same styles array, and skips the
//   diff between two characters whose styles are that same array (the diff of equal styles is
//   empty).
const cheaperFrames = {
  name: 'cheaper-frames',
  setup(b) {
    b.onLoad({filter: /[\\/]ink[\\/]build[\\/]output\.js$/}, async (args) => {
      const text = await readFile(args.path, 'utf8')
      const bound = (map) => `if (this.${map}.size >= ${CACHE_LIMIT}) this.${map}.clear();\n            this.${map}.set(`
      const patched = text
        .replace('this.widths.set(', bound('widths'))
        .replace('this.blockWidths.set(', bound('blockWidths'))
        .replace('this.styledChars.set(', bound('styledChars'))
        .replace('export default class Output {', "const sharedCaches = new OutputCaches();\nconst BLANK = Object.freeze({type: 'char', value: ' ', fullWidth: false, styles: Object.freeze([])});\nexport default class Output {")
        .replace('caches = new OutputCaches();', 'caches = sharedCaches;')
        .replace(/row\.push\(\{\s*type: 'char',\s*value: ' ',\s*fullWidth: false,\s*styles: \[\],\s*\}\);/, 'row.push(BLANK);')
      for (const needle of ['this.widths.size', 'this.blockWidths.size', 'this.styledChars.size', 'caches = sharedCaches;', 'row.push(BLANK);']) {
        if (!patched.includes(needle)) throw new Error(`${args.path} changed: update the frame patch in scripts/bundle-tui.mjs (${needle})`)
      }
      return {contents: patched, loader: 'js'}
    })
    b.onLoad({filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]styledChars\.js$/}, async (args) => {
      const text = await readFile(args.path, 'utf8')
      const patched = text
        .replace('let codes = [];', 'let codes = NO_STYLES;')
        // a literal, not a spread of the token: a char token is {type, value, fullWidth}
        .replace(/ret\.push\(\{\s*\.\.\.token,\s*styles: \[\.\.\.codes\],\s*\}\);/, 'ret.push({type: token.type, value: token.value, fullWidth: token.fullWidth, styles: codes});')
        .replace(
          'ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));',
          'if (chars[i - 1].styles !== char.styles) ret += ansiCodesToString(diffAnsiCodes(chars[i - 1].styles, char.styles));',
        )
        .replace('export function styledCharsFromTokens', 'const NO_STYLES = Object.freeze([]);\nexport function styledCharsFromTokens')
      for (const needle of ['let codes = NO_STYLES;', 'styles: codes});', 'if (chars[i - 1].styles !== char.styles)']) {
        if (!patched.includes(needle)) throw new Error(`${args.path} changed: update the styled-chars patch in scripts/bundle-tui.mjs (${needle})`)
      }
      return {contents: patched, loader: 'js'}
    })
    // tokenize() walks the line grapheme by grapheme (Intl.Segmenter) even when it is plain ASCII
    // and SGR codes, which is every line of the queue list: those lines get a loop over char codes
    // giving the same tokens; any other character sends the whole line down the original path.
    b.onLoad({filter: /[\\/]@alcalzone[\\/]ansi-tokenize[\\/]build[\\/]tokenize\.js$/}, async (args) => {
      const text = await readFile(args.path, 'utf8')
      if (!text.includes('export function tokenize(str, endChar = Number.POSITIVE_INFINITY) {') || !text.includes('function parseSGRSequence(') || !text.includes('function splitCompoundSGRSequences(')) {
        throw new Error(`${args.path} changed: update the tokenize patch in scripts/bundle-tui.mjs`)
      }
      const fast = `
// single-width characters that are a grapheme of their own (none combines with a neighbour)
const SIMPLE = new Set([0x2014, 0x2026, 0x2190, 0x2191, 0x2192, 0x2193, 0x2500, 0x2581, 0x2582, 0x2583, 0x2584, 0x2585, 0x2586, 0x2587, 0x2588]);
export function tokenize(str, endChar = Number.POSITIVE_INFINITY) {
    const ret = [];
    let visible = 0;
    for (let index = 0; index < str.length;) {
        const c = str.charCodeAt(index);
        if (c === 0x1b) {
            const code = str.charCodeAt(index + 1) === CSI ? parseSGRSequence(str, index) : undefined;
            if (!code) return tokenizeGraphemes(str, endChar);
            for (const individualCode of splitCompoundSGRSequences(code)) {
                ret.push({type: "ansi", code: individualCode, endCode: getEndCode(individualCode)});
            }
            index += code.length;
            continue;
        }
        if (!((c >= 0x20 && c <= 0x7e) || SIMPLE.has(c))) return tokenizeGraphemes(str, endChar);
        ret.push({type: "char", value: str[index], fullWidth: false});
        index++;
        if (++visible >= endChar) break;
    }
    return ret;
}
`
      const patched = text.replace('export function tokenize(str, endChar = Number.POSITIVE_INFINITY) {', `${fast}\nfunction tokenizeGraphemes(str, endChar = Number.POSITIVE_INFINITY) {`)
      return {contents: patched, loader: 'js'}
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

/** esbuild options shared by the TUI bundle and the test that checks the Ink patches change no frame. */
export const inkBuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  jsx: 'automatic',
  logLevel: 'warning',
  // React's production build: no dev-only checks at run time
  define: {'process.env.NODE_ENV': '"production"'},
  // CommonJS dependencies (React, signal-exit…) call require() for Node built-ins
  banner: {js: "import {createRequire as __queuectlCreateRequire} from 'node:module';const require=__queuectlCreateRequire(import.meta.url);"},
}

/** The patches of Ink and its helpers; `frames: false` leaves out the ones that change how a frame is painted. */
export function inkPlugins({frames = true} = {}) {
  return [withoutInkDevtools, boundInkCaches, ...(frames ? [cheaperFrames] : []), yogaWithoutFetch]
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // the build's dist/ by default; benchmarks bundle into a copy of their own
  const outDir = resolve(process.argv[2] ?? resolve(root, 'dist'))
  const started = Date.now()
  const result = await build({
    ...inkBuildOptions,
    entryPoints: [resolve(tuiSrc, 'app.tsx')],
    outfile: resolve(outDir, 'tui/app.js'),
    // BUNDLE_MINIFY=0 keeps names readable in a CPU profile
    minify: process.env.BUNDLE_MINIFY !== '0',
    legalComments: 'linked',
    metafile: true,
    plugins: [keepOutsideTuiExternal, ...inkPlugins()],
  })
  const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0)
  console.log(`bundled the TUI into ${relative(root, resolve(outDir, 'tui/app.js'))}: ${(bytes / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`)
}
