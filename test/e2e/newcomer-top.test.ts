// Issue 23, `queue top` for a newcomer: --all-contexts sections carry the context's name.
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

describe('queue top --once --all-contexts', () => {
  it('labels each section by its context name, with the URL beside it', async () => {
    const home = isolatedHome()
    expect((await runCli(['context', 'add', 'alpha', 'memory://alpha'], {env: home})).code).toBe(0)
    expect((await runCli(['context', 'add', 'beta', 'redis://127.0.0.1:6379/13'], {env: home})).code).toBe(0)
    const r = await runCli(['top', '--once', '--all-contexts', '--queue', 'wt-newbie-none'], {env: {...home, NO_COLOR: '1'}})
    expect(r.stdout).toMatch(/^alpha {2}memory:\/\/alpha/m)
    expect(r.stdout).toMatch(/^beta {2}redis:\/\/127\.0\.0\.1:6379\/13/m)
  })
})
