// Global setup: makes sure RabbitMQ's management plugin is on and :15672 answers, so the AMQP
// tests see the same broker a user with the management UI would. Never restarts RabbitMQ: enabling
// a plugin on a running node is online. Does nothing when the API already answers.
import {execFile} from 'node:child_process'
import {promisify} from 'node:util'

const run = promisify(execFile)
const MGMT = process.env.QUEUECTL_TEST_RABBITMQ_MGMT ?? 'http://127.0.0.1:15672'
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`

async function answers(): Promise<boolean> {
  try {
    const res = await fetch(`${MGMT}/api/overview`, {headers: {authorization: AUTH}, signal: AbortSignal.timeout(2000)})
    return res.ok
  } catch {
    return false
  }
}

export default async function setup(): Promise<void> {
  if (await answers()) return
  try {
    await run('rabbitmq-plugins', ['enable', 'rabbitmq_management'], {timeout: 60_000})
  } catch (error) {
    // RabbitMQ missing or not ours to change: the AMQP tests will say so; the others must still run
    process.stderr.write(`test/setup/rabbitmq: could not enable rabbitmq_management: ${(error as Error).message.split('\n')[0]}\n`)
    return
  }
  const until = Date.now() + 60_000
  while (Date.now() < until) {
    if (await answers()) return
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
  process.stderr.write(`test/setup/rabbitmq: management API at ${MGMT} did not answer within 60s after enabling the plugin\n`)
}
