// Issue 23: every transport's connection failure names the broker, the likely cause and what to
// check: a closed port, a port where another kind of server answers, a refused login, an unknown
// database or vhost. Each case points a URL at one of the shared loopback servers (read-only: the
// client gives up at its handshake) or at a closed loopback port.
import {createServer} from 'node:net'
import {beforeAll, describe, expect, it} from 'vitest'
import {isolatedHome, runCli} from '../helpers/cli.js'

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

const home = isolatedHome()
let closed = 0
beforeAll(async () => {
  closed = await closedPort()
})

/** `queue inspect` at `url`: exit 3, one line; returns it. */
async function failure(url: string): Promise<string> {
  const r = await runCli(['inspect', '--url', url, '--timeout', '2s'], {env: home, input: ''})
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(r.code, r.stderr).toBe(3)
  return lines[0]!
}

describe('redis:// at the wrong server', {timeout: 30_000}, () => {
  it('an HTTP port (RabbitMQ management): answered in another protocol, not "Unknown RESP type … Please report this"', async () => {
    expect(await failure('redis://127.0.0.1:15672')).toBe('Error: redis://127.0.0.1:15672 answered in another protocol (HTTP?) — is this the Redis port?')
  })

  it.each([
    ['RabbitMQ', 5672],
    ['PostgreSQL', 5432],
    ['NATS', 4222],
  ])('%s\'s port: not a Redis port, said so (not "is Redis still running?")', async (_, port) => {
    expect(await failure(`redis://127.0.0.1:${port}`)).toMatch(new RegExp(`^Error: redis://127.0.0.1:${port} .*is this the Redis port`))
  })

  it('a closed port: refused, is Redis running', async () => {
    expect(await failure(`redis://127.0.0.1:${closed}`)).toMatch(/connection refused — is Redis running/)
  })
})

describe('amqp:// at the wrong server', {timeout: 30_000}, () => {
  it.each([
    ['Redis', 6379],
    ['the management HTTP API', 15672],
    ['NATS', 4222],
    ['PostgreSQL', 5432],
  ])('%s\'s port: not the AMQP port, said so', async (_, port) => {
    expect(await failure(`amqp://127.0.0.1:${port}`)).toMatch(/RabbitMQ.*is this .*AMQP port.*5672/)
  })

  it('a closed port, a wrong password, an unknown vhost: each names RabbitMQ and what to check', async () => {
    expect(await failure(`amqp://127.0.0.1:${closed}`)).toMatch(/connection refused\) — is RabbitMQ running/)
    expect(await failure('amqp://guest:wrong@127.0.0.1:5672')).toMatch(/RabbitMQ .*refused the login .*check the user and password/)
    expect(await failure('amqp://guest:guest@127.0.0.1:5672/qctl-no-such-vhost')).toMatch(/RabbitMQ .*refused vhost "qctl-no-such-vhost".*check the vhost/)
  })
})

describe('postgres:// at the wrong server', {timeout: 30_000}, () => {
  it('a closed port: refused, names PostgreSQL and what to check (not a bare "connect ECONNREFUSED")', async () => {
    expect(await failure(`postgres://root@127.0.0.1:${closed}/postgres`)).toMatch(
      new RegExp(`^Error: nothing is listening at postgres://root@127.0.0.1:${closed}/postgres \\(connection refused\\) — is PostgreSQL running on that host and port \\(usually 5432\\)\\?$`),
    )
  })

  it.each([
    ['Redis', 6379],
    ['RabbitMQ', 5672],
    ['NATS', 4222],
    ['the RabbitMQ management HTTP API', 15672],
  ])('%s\'s port: not the PostgreSQL port, said so', async (_, port) => {
    expect(await failure(`postgres://root@127.0.0.1:${port}/postgres`)).toMatch(/PostgreSQL.*is this .*PostgreSQL port.*5432/)
  })

  it('an unknown role: names it and what to check', async () => {
    expect(await failure('postgres://qctl_no_such_role@127.0.0.1:5432/postgres')).toMatch(/cannot log in to .* as "qctl_no_such_role".*check the user/)
  })
})

describe('nats:// at the wrong server', {timeout: 30_000}, () => {
  it.each([
    ['Redis', 6379],
    ['RabbitMQ', 5672],
    ['PostgreSQL', 5432],
    ['the RabbitMQ management HTTP API', 15672],
  ])('%s\'s port: not the NATS port, said so', async (_, port) => {
    expect(await failure(`nats://127.0.0.1:${port}`)).toMatch(/NATS.*is this .*NATS port.*4222/)
  })

  it('a closed port: refused, is nats-server running', async () => {
    expect(await failure(`nats://127.0.0.1:${closed}`)).toMatch(/connection refused.*is nats-server running/)
  })
})

describe('sqs:// with an endpoint at the wrong server', {timeout: 30_000}, () => {
  it('RabbitMQ\'s AMQP port: not HTTP, said so (not "Parse Error: Expected HTTP/")', async () => {
    expect(await failure('sqs://k:s@127.0.0.1:5672?region=us-east-1')).toMatch(/answered in another protocol \(not HTTP\) — is the endpoint the SQS service's/)
  })

  it('an HTTP server that is not SQS (RabbitMQ management): its status, not "UnknownError"', async () => {
    expect(await failure('sqs://k:s@127.0.0.1:15672?region=us-east-1')).toMatch(/answered HTTP \d{3}, but not as SQS — is the endpoint the SQS service's/)
  })

  it('a closed port: cannot reach, is the emulator running', async () => {
    expect(await failure(`sqs://k:s@127.0.0.1:${closed}?region=us-east-1`)).toMatch(/cannot reach .*ECONNREFUSED.*is the endpoint right and the service \(or emulator\) running\?/)
  })
})
