// The audit log: every destructive command (purge, move, retry, import, export --consume) appends
// one NDJSON line saying who did what, where and how much, so a 3 a.m. incident can be replayed.
// $XDG_STATE_HOME/queuectl/audit.log (default ~/.local/state/queuectl/audit.log), mode 0600.
import {appendFile, mkdir} from 'node:fs/promises'
import {homedir, hostname, userInfo} from 'node:os'
import {dirname, join} from 'node:path'
import {redactUrl, redactValue} from '../../kernel/redact.js'

export interface AuditEntry {
  /** The command: purge, move, retry, import, export. */
  command: string
  /** Broker URL (redacted here whatever the caller passed). */
  url: string
  queue: string
  /** What was counted: removed, moved, failed, retried, imported… */
  counts: Record<string, number>
  /** Anything else worth keeping: state, destination, filter, outcome. */
  details?: Record<string, unknown>
}

export function auditLogPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state')
  return join(base, 'queuectl', 'audit.log')
}

function whoAmI(): string {
  try {
    return userInfo().username
  } catch {
    // no passwd entry (some containers): fall back to the environment
    return process.env.USER ?? process.env.LOGNAME ?? `uid:${process.getuid?.() ?? '?'}`
  }
}

/**
 * Appends one line. A failure to write is reported on stderr and never fails the command: the
 * work is already done by then, and hiding that would be worse.
 */
export async function writeAudit(entry: AuditEntry, path = auditLogPath(), err: NodeJS.WritableStream = process.stderr): Promise<void> {
  const line = {
    at: new Date().toISOString(),
    user: whoAmI(),
    host: hostname(),
    pid: process.pid,
    command: entry.command,
    url: redactUrl(entry.url),
    // each string redacted on its own (URLs parsed one by one), then joined: always one valid JSON line
    queue: redactValue(entry.queue),
    counts: entry.counts,
    ...(entry.details ? {details: redactValue(entry.details)} : {}),
  }
  try {
    await mkdir(dirname(path), {recursive: true, mode: 0o700})
    // one write of one line: O_APPEND keeps concurrent writers' lines whole
    await appendFile(path, `${JSON.stringify(line)}\n`, {mode: 0o600})
  } catch (error) {
    err.write(`warning: could not write the audit log ${path}: ${(error as Error).message}\n`)
  }
}
