// Issue 23, help a newcomer can trust: queue syntax from the transport descriptors, only the flags
// a command uses, aligned flag lists, examples that run as written, every broker named.
import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'
import {TRANSPORTS} from '../../src/adapters/registry.js'
import {isolatedHome, runCli} from '../helpers/cli.js'

const home = isolatedHome()
const QUEUE_COMMANDS = ['enqueue', 'retry', 'purge', 'import', 'work', 'inspect', 'wait', 'export']
const manifest = JSON.parse(readFileSync(new URL('../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, {args: Record<string, {description?: string}>; examples?: (string | {command: string})[]}>
}

describe('help built from the transport descriptors', () => {
  it.each(QUEUE_COMMANDS)('%s: the QUEUE argument gives every transport\'s queue syntax', async (cmd) => {
    const r = await runCli([cmd, '--help'], {env: home})
    expect(r.code).toBe(0)
    const args = r.stdout.slice(r.stdout.indexOf('ARGUMENTS'), r.stdout.indexOf('FLAGS')).replace(/\s+/g, ' ')
    expect(args).not.toMatch(/on Redis: kind:name/)
    const named = TRANSPORTS.filter((t) => t.queueSyntax)
    expect(named.map((t) => t.server?.name)).toEqual(expect.arrayContaining(['Redis', 'PostgreSQL', 'NATS']))
    for (const t of named) expect(args).toContain(`${t.server?.name ?? t.name}: ${t.queueSyntax}`)
  })

  it('every QUEUE argument of every command (source and destination too) is described from the descriptors', () => {
    const named = TRANSPORTS.filter((t) => t.queueSyntax).map((t) => `${t.server?.name ?? t.name}: ${t.queueSyntax}`)
    const queueArgs = Object.entries(manifest.commands).flatMap(([id, c]) =>
      Object.entries(c.args).filter(([name]) => ['queue', 'source', 'destination'].includes(name)).map(([name, a]) => [`${id} ${name}`, a.description ?? ''] as const),
    )
    expect(queueArgs.length).toBeGreaterThanOrEqual(QUEUE_COMMANDS.length + 6)
    for (const [where, description] of queueArgs) {
      expect(description, where).not.toMatch(/on Redis: kind:name/)
      for (const syntax of named) expect(description, where).toContain(syntax)
    }
  })

  it('no example holds a redacted URL (it could not be run as written)', () => {
    for (const [id, command] of Object.entries(manifest.commands)) {
      for (const example of command.examples ?? []) {
        const text = typeof example === 'string' ? example : example.command
        expect(text, id).not.toMatch(/:\/\/[^\s/]*\*\*\*@/)
      }
    }
  })

  it.each(['context list', 'context use', 'context remove'])('%s --help shows no connection flags (it reads only the config file)', async (cmd) => {
    const r = await runCli([...cmd.split(' '), '--help'], {env: home})
    expect(r.code).toBe(0)
    expect(r.stdout).not.toMatch(/CONNECTION FLAGS|--url|--mgmt-url|--endpoint/)
  })

  it.each(['move', 'export', 'retry', 'inspect'])('%s --help: every flag row of FLAGS starts in one column', async (cmd) => {
    const r = await runCli([cmd, '--help'], {env: {...home, COLUMNS: '120'}})
    const section = r.stdout.slice(r.stdout.indexOf('\nFLAGS\n') + 7, r.stdout.indexOf('\n\n', r.stdout.indexOf('\nFLAGS\n') + 7))
    const rows = section.split('\n').filter((l) => /^ *(-\w, )?--/.test(l))
    expect(rows.length).toBeGreaterThan(1)
    const column = (l: string) => l.indexOf('--')
    expect(rows.map(column), rows.join('\n')).toEqual(rows.map(() => column(rows[1]!)))
  })

  it('queue --help and the package description name NATS and PostgreSQL, worded to stay true as brokers are added', async () => {
    const r = await runCli(['--help'], {env: home})
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {description: string}
    for (const text of [r.stdout, pkg.description]) {
      for (const name of ['Redis', 'RabbitMQ', 'SQS', 'NATS', 'PostgreSQL']) expect(text).toContain(name)
      expect(text).toMatch(/among them/)
    }
  })
})
