// Issue 23: one redaction form everywhere, user:***@ — in errors, tables, JSON and context lists,
// on every transport; never user@ (password dropped), never ***@ for a user with a password.
import {createServer} from 'node:net'
import {describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

const home = isolatedHome()

/** Every user part of a URL in the text: each must be "user:***@" (or "***@" for a token user). */
function userParts(text: string): string[] {
  return [...text.matchAll(/[a-z][a-z0-9+.-]*:\/\/([^\s/?#@"']*)@/gi)].map((m) => `${m[1]}@`)
}

describe('one redaction form, user:***@', () => {
  it.each([
    ['RabbitMQ', (p: number) => `amqp://guest:guest@127.0.0.1:${p}/`, 'guest:***@'],
    ['Redis', (p: number) => `redis://bob:hunter2x@127.0.0.1:${p}/`, 'bob:***@'],
    ['PostgreSQL', (p: number) => `postgres://bob:hunter2x@127.0.0.1:${p}/db`, 'bob:***@'],
    ['NATS', (p: number) => `nats://bob:hunter2x@127.0.0.1:${p}`, 'bob:***@'],
    ['SQS', (p: number) => `sqs://AKIDEXAMPLE:hunter2x@127.0.0.1:${p}?region=us-east-1`, 'AKIDEXAMPLE:***@'],
  ])('%s: a connection error names the URL as user:***@ (text and --json)', async (_name, url, form) => {
    const port = await closedPort()
    for (const json of [false, true]) {
      const r = await runCli(['inspect', '--url', url(port), '--timeout', '2s', ...(json ? ['--json'] : [])], {env: home})
      expect(r.code).toBe(3)
      const out = r.stdout + r.stderr
      expect(out).not.toMatch(/hunter2x|guest:guest/)
      expect(userParts(out).length, out).toBeGreaterThan(0)
      expect(new Set(userParts(out)), out).toEqual(new Set([form]))
    }
  })

  it('RabbitMQ tables, JSON and saved contexts show guest:***@ (not guest@)', async () => {
    const url = 'amqp://guest:guest@127.0.0.1:5672/'
    const added = await runCli(['context', 'add', 'rabbit-redact', url], {env: home})
    expect(added.code).toBe(0)
    for (const args of [['inspect'], ['inspect', '--json'], ['context', 'list'], ['context', 'list', '--json'], ['inspect', 'wt-newbie-no-such-queue']]) {
      const r = await runCli(args, {env: home})
      const out = r.stdout + r.stderr
      expect(out, args.join(' ')).not.toMatch(/guest:guest|guest@|\*\*\*:\*\*\*@/)
      // a one-broker table names no URL (on an empty broker its "no queues on URL" line does)
      if (args.join(' ') !== 'inspect') expect(userParts(out), args.join(' ')).toContain('guest:***@')
    }
  })
})
