// Detection: which libraries' tables a database holds, `kind:name` addressing, bare names found
// in the one library that has them, and ambiguity as an error listing both.
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {Broker} from '../../../src/broker/contract.js'
import {graphileCapabilities} from '../../../src/adapters/postgres/capabilities.js'
import {PG_HOST, freshDatabase, installGraphile, installPgboss, openPostgres, type TestDb} from './helpers.js'

describe('postgres:// detection', () => {
  let both: TestDb
  let broker: Broker

  beforeAll(async () => {
    both = await freshDatabase('both')
    await installPgboss(both.url)
    await installGraphile(both.url)
    broker = await openPostgres(both.url)
    await broker.enqueue('pgboss:emails', [{payload: '{"via":"pgboss"}'}])
    await broker.enqueue('graphile:emails', [{payload: '{"via":"graphile"}'}])
    await broker.enqueue('pgboss:invoices', [{payload: '{"n":1}'}])
    await broker.enqueue('graphile:thumbnails', [{payload: '{"n":2}'}, {payload: '{"n":3}'}])
  })

  afterAll(async () => {
    await broker?.close()
    await both?.drop()
  })

  it('lists the queues of both libraries with their kind', async () => {
    expect(await broker.listQueues()).toEqual([
      {name: 'graphile:emails', kind: 'graphile'},
      {name: 'graphile:thumbnails', kind: 'graphile'},
      {name: 'pgboss:emails', kind: 'pgboss'},
      {name: 'pgboss:invoices', kind: 'pgboss'},
    ])
  })

  it('finds a bare name in the one library that has it', async () => {
    expect((await broker.stats('invoices')).name).toBe('pgboss:invoices')
    expect((await broker.stats('thumbnails')).counts.waiting).toBe(2)
    expect((await broker.peek('thumbnails', {limit: 1}))[0]!.queue).toBe('graphile:thumbnails')
  })

  it('a bare name both libraries have is an error listing both', async () => {
    await expect(broker.stats('emails')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/ambiguous.*pgboss:emails, graphile:emails/),
      suggestions: ['pgboss:emails', 'graphile:emails'],
    })
    expect((await broker.peek('pgboss:emails', {limit: 1}))[0]!.body).toEqual({via: 'pgboss'})
  })

  it('a new bare name with both libraries there needs its kind (or ?flavor=)', async () => {
    await expect(broker.enqueue('fresh', [{payload: 'x'}])).rejects.toMatchObject({exitCode: 2, message: expect.stringContaining('pgboss:fresh or graphile:fresh')})
    const graphileFirst = await openPostgres(`${both.url}?flavor=graphile`)
    try {
      expect(await graphileFirst.capabilitiesOf()).toEqual(graphileCapabilities)
      await graphileFirst.enqueue('fresh', [{payload: '{"n":1}'}])
      expect((await graphileFirst.stats('fresh')).kind).toBe('graphile')
    } finally {
      await graphileFirst.close()
    }
  })

  it('an unknown queue is exit 4 with near names', async () => {
    await expect(broker.stats('invoice')).rejects.toMatchObject({exitCode: 4, suggestions: expect.arrayContaining(['pgboss:invoices'])})
  })

  it('reads a non-default schema (?schema=) and the postgresql:// scheme', async () => {
    const custom = await freshDatabase('custom_schema')
    try {
      await installPgboss(custom.url, 'jobs_here')
      await expect(openPostgres(custom.url)).rejects.toMatchObject({exitCode: 4})
      const other = await openPostgres(`postgresql://postgres@${PG_HOST}/${custom.name}?schema=jobs_here`)
      try {
        await other.enqueue('pgboss:mail', [{payload: '{"ok":true}'}])
        expect((await other.stats('mail')).counts.waiting).toBe(1)
        await expect(other.stats('graphile:mail')).rejects.toMatchObject({exitCode: 4, message: expect.stringContaining('no graphile-worker tables')})
      } finally {
        await other.close()
      }
    } finally {
      await custom.drop()
    }
  })
})
