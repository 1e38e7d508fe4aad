// A setup file (vitest.config.ts): after each test file, every audit log written under the isolated
// homes it made must parse as NDJSON (runCli checks after each command; this catches the rest).
import {afterAll} from 'vitest'
import {checkAuditLog, homesMade} from './cli.js'

afterAll(() => {
  for (const home of homesMade.splice(0)) checkAuditLog(home)
})
