// Runs the built CLI and sends a signal once its output shows `ready` (not after a fixed time:
// start-up on a loaded CI machine can take seconds).
import {spawn} from 'node:child_process'
import {BIN, type CliResult} from '../helpers/cli.js'

export function runAndInterrupt(
  args: string[],
  ready: RegExp,
  options: {env?: Record<string, string>; signal?: NodeJS.Signals; afterReadyMs?: number; timeoutMs?: number} = {},
): Promise<CliResult & {signalledAt: number}> {
  const started = Date.now()
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...process.env, NO_COLOR: '1', QUEUE_URL: undefined, ...options.env}
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
    const child = spawn(process.execPath, [BIN, ...args], {env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    let signalledAt = 0
    const check = () => {
      if (signalledAt || !(ready.test(stderr) || ready.test(stdout))) return
      signalledAt = Date.now()
      setTimeout(() => child.kill(options.signal ?? 'SIGINT'), options.afterReadyMs ?? 500)
    }
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
      check()
    })
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      check()
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({code, signal, stdout, stderr, ms: Date.now() - started, signalledAt})
    })
  })
}
