#!/usr/bin/env node
import module from 'node:module'

// Node >= 22.1 keeps the compiled code of every module it loads (ours, oclif's) in a cache on disk
// (os.tmpdir()/node-compile-cache, or NODE_COMPILE_CACHE): later starts skip compiling them.
module.enableCompileCache?.()
// @oclif/core's index checks Node against its own engines (>=18) with semver when imported: 47
// modules, 10-20 ms of every start-up, for a floor below package.json's own (>=22.19). Skipped
// for that import only: the variable is put back, so a handler's child processes see it as it was.
const engineWarning = process.env.OCLIF_DISABLE_ENGINE_WARNING
process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
const {Config, execute, settings} = await import('@oclif/core')
if (engineWarning === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
else process.env.OCLIF_DISABLE_ENGINE_WARNING = engineWarning

// The published bin runs the compiled dist/ only: never look for TypeScript sources (oclif would,
// and warn, under NODE_ENV=test|development on a Node that strips types, such as 24).
settings.enableAutoTranspile = false

// oclif sorts the command list with localeCompare while loading its config, and the first
// localeCompare of a process builds an ICU collator: ~10 ms of every start-up (BENCHMARKS.md,
// "Start-up"). Command ids are plain ASCII, which a code-unit comparison orders the same way, so
// the config loads with that comparison and localeCompare is restored before any command runs.
const localeCompare = String.prototype.localeCompare
String.prototype.localeCompare = function (that) {
  const self = String(this)
  return self < that ? -1 : self > that ? 1 : 0
}
let config
try {
  config = await Config.load(import.meta.url)
} finally {
  String.prototype.localeCompare = localeCompare
}
await execute({loadOptions: config})
