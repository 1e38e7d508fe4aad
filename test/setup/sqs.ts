// Global setup: starts the fauxqs SQS emulator on a free loopback port and hands its endpoint to
// the tests (inject('sqsEndpoint'), and SQS_TEST_ENDPOINT for child processes). It runs in a child
// process of its own, so it does not share an event loop with vitest's main process, and it is
// bound to 127.0.0.1 (startFauxqs() would bind 0.0.0.0).
import {spawn, type ChildProcess} from 'node:child_process'
import type {TestProject} from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string
  }
}

const EMULATOR = `
import {buildApp} from 'fauxqs'
const app = buildApp({logger: false, host: 'localhost'})
const address = await app.listen({port: 0, host: '127.0.0.1'})
process.stdout.write(address + '\\n')
process.on('SIGTERM', () => app.close().then(() => process.exit(0)))
process.on('disconnect', () => process.exit(0))
`

let child: ChildProcess | undefined

export async function setup(project: TestProject): Promise<void> {
  child = spawn(process.execPath, ['--input-type=module', '-e', EMULATOR], {
    cwd: new URL('../../', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  })
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = ''
    child!.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('\n')) resolve(new URL(out.trim()).origin)
    })
    child!.once('exit', (code) => reject(new Error(`the fauxqs emulator exited (code ${code}) before listening`)))
    setTimeout(() => reject(new Error('the fauxqs emulator did not start within 30 s')), 30_000).unref()
  })
  project.provide('sqsEndpoint', endpoint)
  process.env.SQS_TEST_ENDPOINT = endpoint
}

export async function teardown(): Promise<void> {
  const running = child
  child = undefined
  if (!running || running.exitCode !== null) return
  const exited = new Promise((resolve) => running.once('exit', resolve))
  running.kill('SIGTERM')
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())])
  if (running.exitCode === null) running.kill('SIGKILL')
}
