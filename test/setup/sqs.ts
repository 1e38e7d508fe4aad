// Global setup: starts the fauxqs SQS emulator in this process on a free loopback port and hands its
// endpoint to the tests (inject('sqsEndpoint'), and SQS_TEST_ENDPOINT for child processes).
// startFauxqs() binds 0.0.0.0, so the app is built and bound to 127.0.0.1 here instead.
import type {TestProject} from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    sqsEndpoint: string
  }
}

let stop: (() => Promise<void>) | undefined

export async function setup(project: TestProject): Promise<void> {
  const {buildApp} = await import('fauxqs')
  const app = buildApp({logger: false, host: 'localhost'})
  const address = await app.listen({port: 0, host: '127.0.0.1'})
  const endpoint = new URL(address).origin
  stop = async () => {
    await app.close()
  }
  project.provide('sqsEndpoint', endpoint)
  process.env.SQS_TEST_ENDPOINT = endpoint
}

export async function teardown(): Promise<void> {
  await stop?.()
  stop = undefined
}
