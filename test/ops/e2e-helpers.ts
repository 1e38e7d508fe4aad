// Shared by the ops e2e files: an isolated home (config, audit log), queues made per test and
// dropped after, filling queues in process, reading the audit log.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll} from 'vitest'
import {isolatedHome} from '../helpers/cli.js'
import {counts, open, type OpsTarget} from './targets.js'

export const home = isolatedHome()
export const env = {...home, AWS_EC2_METADATA_DISABLED: 'true'}
const made: {t: OpsTarget; q: string}[] = []

/** Registers the cleanup of every queue made through `fresh` (call once per test file). */
export function dropQueuesAfterAll(): void {
  afterAll(async () => {
    await Promise.allSettled(made.splice(0).map(({t, q}) => t.drop(q)))
  }, 120_000)
}

export async function fresh(t: OpsTarget, hint: string): Promise<string> {
  const q = await t.fresh(hint)
  made.push({t, q})
  return q
}

export async function fill(t: OpsTarget, q: string, n: number, name = 'job'): Promise<void> {
  const b = await open(t.url())
  try {
    await b.enqueue(q, [...Array(n)].map((_, i) => ({payload: JSON.stringify({seq: i}), name, contentType: 'application/json'})))
  } finally {
    await b.close()
  }
}

export function auditLines(): Record<string, unknown>[] {
  const path = join(home.XDG_STATE_HOME, 'queuectl', 'audit.log')
  try {
    return readFileSync(path, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)
  } catch {
    return []
  }
}

export const waiting = async (t: OpsTarget, q: string) => (await counts(t.url(), q)).waiting ?? 0
