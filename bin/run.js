#!/usr/bin/env node
import {execute, settings} from '@oclif/core'

// The published bin runs the compiled dist/ only: never look for TypeScript sources (oclif would,
// and warn, under NODE_ENV=test|development on a Node that strips types, such as 24).
settings.enableAutoTranspile = false

await execute({dir: import.meta.url})
