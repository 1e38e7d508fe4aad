// Every command extends BaseCommand: it owns the common flags, the JSON envelope (of results and
// of failures, with the work done so far), opening and closing brokers, and turning errors into
// one line and a stable exit code.
import {Command, Config, Errors, Flags, ux, type Interfaces} from '@oclif/core'
import type {Broker} from '../broker/contract.js'
import {SUPPORTED_SCHEMES, TRANSPORT_OPTIONS} from '../adapters/registry.js'
import {resolveConnection, type ResolvedConnection} from '../services/connection.js'
import {connectionSettings, openTarget, type ConnectionFlagValues} from '../services/targets.js'
import type {AuditEntry} from '../services/ops/audit.js'
import {ExitCode, isUserError, UserError} from '../kernel/errors.js'
import {checkCount} from '../kernel/units.js'
import {redactText} from '../kernel/redact.js'
import {jsonEscaped, safeBlock, safeLine, safeOutput} from '../kernel/terminal.js'
import {format} from 'node:util'
import type {Readable} from 'node:stream'
import {unknownFlagsMessage} from './did-you-mean.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/** Where a command writes (and reads): the process's streams, or a test's. */
export interface CommandIO {
  in: Readable & {isTTY?: boolean}
  out: OutputStream
  err: OutputStream
}

/** What a command writes to: process.stdout/stderr or a capture; the TTY facts decide colour and the live screen. */
export type OutputStream = NodeJS.WritableStream & {isTTY?: boolean; columns?: number; rows?: number}

export const processIO = (): CommandIO => ({in: process.stdin, out: process.stdout, err: process.stderr})

/** One line to `stream`; the process's own through the console, as oclif does (a closed pipe is not a crash). */
export function writeLine(stream: OutputStream, text: string): void {
  if (stream === process.stdout) console.log(text)
  else if (stream === process.stderr) console.error(text)
  else stream.write(`${text}\n`)
}

/** What a command runs on once its argv is parsed (the GitHub CLI's Options struct): a `runF` sees it instead of the command. */
export interface CommandOptions {
  flags: Record<string, unknown>
  args: Record<string, unknown>
  io: CommandIO
}

/** A command run in-process by `runWith`: its exit code and what it returned. */
export interface CommandRun {
  exitCode: number
  result: unknown
}

/** Exit code for a bug: sysexits' EX_SOFTWARE. */
export const BUG_EXIT_CODE = 70

/** Each transport's own connection options (RabbitMQ's --mgmt-url, SQS's --endpoint), as its descriptor declares them. */
const transportFlags = Object.fromEntries(
  TRANSPORT_OPTIONS.map((o) => [o.name, Flags.string({summary: o.summary, helpGroup: 'CONNECTION', ...(o.env ? {env: o.env} : {})})]),
)

/** What `fail` throws: the error, and the result so far for the JSON envelope. */
class Failure extends Error {
  constructor(
    readonly error: Error,
    readonly partial: object | undefined,
    readonly line: string | undefined,
  ) {
    super(error.message)
  }
}

/**
 * A run that stopped partway on `cause`, reworded as `message` (which says what was done): exit
 * code and kind are the cause's, or those of a lost connection for an error that is not a UserError.
 */
export function stoppedBy(cause: Error, message: string): UserError {
  const error = new UserError(message, isUserError(cause) ? cause.exitCode : ExitCode.connection)
  error.name = isUserError(cause) ? cause.name : 'ConnectionError'
  return error
}

/**
 * A password or token given on the command line (--url, a context's URL, --mgmt-url) is masked in
 * the process title, so `ps` and /proc/PID/cmdline stop showing it once the arguments are read.
 */
export function scrubProcessTitle(argv: readonly string[] = process.argv): void {
  const shown = argv.slice(1).map((arg) => redactText(arg))
  if (shown.every((arg, i) => arg === argv[i + 1])) return
  try {
    process.title = [process.argv0, ...shown].join(' ')
  } catch {
    // a platform without a settable title: nothing more to do
  }
}

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true
  /** Its stdout is a data stream (NDJSON to a file or a pipe): a --json error document goes to stderr. */
  static dataOnStdout = false
  /** What its arguments are, for shell completion, where they are not named queue/source/destination. */
  static completeArgs: 'queues' | 'contexts' | undefined = undefined

  static override baseFlags = {
    url: Flags.string({
      char: 'u',
      summary: `Broker URL (${SUPPORTED_SCHEMES.map((s) => `${s}://`).join(', ')}).`,
      helpGroup: 'CONNECTION',
    }),
    context: Flags.string({summary: 'Use this named context instead of the current one.', helpGroup: 'CONNECTION'}),
    timeout: Flags.string({summary: 'Connect timeout, and the longest a broker call may go unanswered (then exit 3).', default: '5s', helpGroup: 'CONNECTION'}),
    'tls-ca': Flags.string({summary: 'CA certificate (PEM file) to trust for rediss:// and amqps://.', helpGroup: 'CONNECTION'}),
    'tls-insecure': Flags.boolean({
      summary: 'DANGEROUS: accept any TLS certificate (no verification; open to interception).',
      helpGroup: 'CONNECTION',
    }),
    ...transportFlags,
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  /** Every byte a command prints goes to these streams (injected by `runWith`, else the process's). */
  protected io: CommandIO = processIO()
  private readonly brokers: Broker[] = []

  /**
   * Runs the command in this process with `io` in place of the process's streams (the GitHub CLI's
   * Options with injected I/O): its behaviour is testable without spawning the binary. With
   * `runF`, the parsed options go to it instead of the command's `run`.
   */
  static async runWith(
    this: new (argv: string[], config: Config) => BaseCommand<typeof Command>,
    argv: string[],
    options: {io: CommandIO; config?: Config; runF?: (options: CommandOptions) => unknown},
  ): Promise<CommandRun> {
    const config = options.config ?? (await Config.load(new URL('../..', import.meta.url).pathname))
    const cmd = new this(argv, config)
    cmd.io = options.io
    cmd.id ??= this.name.toLowerCase()
    // a test's runF gets the parsed options in place of the command's work (flag parsing, defaults, exclusions)
    const {runF} = options
    if (runF) cmd.run = async () => runF({flags: cmd.flags, args: cmd.args, io: cmd.io})
    try {
      return {exitCode: 0, result: await cmd._run()}
    } catch (error) {
      if (error instanceof Errors.ExitError) return {exitCode: error.oclif.exit ?? 0, result: undefined}
      throw error
    }
  }

  override async init(): Promise<void> {
    await super.init()
    scrubProcessTitle()
    const ctor = this.ctor as typeof BaseCommand
    const {args, flags} = await this.parse({
      flags: ctor.flags,
      baseFlags: ctor.baseFlags,
      enableJsonFlag: ctor.enableJsonFlag,
      args: ctor.args,
      strict: ctor.strict,
    })
    // an integer flag past 2^31-1 (--peek 99999999999999999999) is a typo: refused, never a crash or a 1 ms timer
    for (const [name, value] of Object.entries(flags)) {
      const min = (ctor.flags?.[name] as {min?: number} | undefined)?.min
      if (typeof value === 'number') checkCount(value, `--${name}`, min ?? Number.MIN_SAFE_INTEGER)
    }
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  /** Human output: our colours kept, any other control character (a broker's bytes) escaped. */
  override log(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) writeLine(this.io.out, safeOutput(format(message, ...args)))
  }

  /** --json output: the same data, with C1 and bidi characters as \u escapes (a terminal acts on them raw). */
  override logJson(json: unknown): void {
    writeLine(this.io.out, jsonEscaped(ux.colorizeJson(json, {pretty: true, theme: this.config.theme?.json})))
  }

  override logToStderr(message = '', ...args: unknown[]): void {
    if (!this.jsonEnabled()) writeLine(this.io.err, safeOutput(format(message, ...args)))
  }

  /**
   * Opens the broker the flags, environment or config point at; closed when the command ends.
   * `url` or `connection` name one explicitly; a connection (a saved context of
   * `top --all-contexts`) brings its own transport options, used where no flag gives them.
   */
  protected async openBroker(options: {fallbackUrl?: string; url?: string; connection?: ResolvedConnection} = {}): Promise<Broker> {
    const flags = this.flags as unknown as BaseFlags<typeof BaseCommand>
    const resolved =
      options.connection ?? (options.url ? {url: options.url, source: 'flag' as const} : await resolveConnection(flags, options.fallbackUrl))
    const broker = await openTarget(resolved, connectionSettings(flags as unknown as ConnectionFlagValues))
    this.brokers.push(broker)
    return broker
  }

  /** One line of the audit log; a failure to write it is a warning on this command's stderr. */
  protected async audit(entry: AuditEntry): Promise<void> {
    // loaded by the commands that change something, not at every start-up
    const {auditLogPath, writeAudit} = await import('../services/ops/audit.js')
    return writeAudit(entry, auditLogPath(), this.io.err)
  }

  /** A `note:` line on stderr, or (with --json) nothing there: the caller puts the note in its result. */
  protected note(text: string | undefined): string | undefined {
    if (text && !this.jsonEnabled()) this.io.err.write(`note: ${text}\n`)
    return text
  }

  /**
   * Ends the command with `error`, keeping the work done so far. The one envelope of every failure:
   * with --json, `{...partial, error: {message, exitCode, kind}}` on stdout (and, where there is a
   * partial result, the error's line on stderr too, for whoever watches); otherwise the line alone.
   * `line` replaces the usual `Error: message` (inspect's `check failed: …`).
   */
  protected fail(error: Error, partial?: object, options: {line?: string} = {}): never {
    throw new Failure(error, partial, options.line)
  }

  override async catch(thrown: Error & {exitCode?: number}): Promise<unknown> {
    if (thrown instanceof Errors.ExitError) throw thrown
    const {error, partial, line} = thrown instanceof Failure ? thrown : {error: thrown, partial: undefined, line: undefined}
    const debug = /queuectl|\*/.test(process.env.DEBUG ?? '')
    let exitCode: number
    let message: string
    if (isUserError(error)) {
      exitCode = error.exitCode
      message = error.message
    } else if (error instanceof Errors.CLIError) {
      // oclif's own parse errors: unknown flag, missing argument
      exitCode = error.oclif?.exit === 1 || error.oclif?.exit === undefined ? ExitCode.usage : error.oclif.exit
      message = redactText(error.message.split('\n')[0]!)
      const more = error.message.split('\n').slice(1).join(' ').replace(/\s+/g, ' ').trim()
      if (more) message += ` (${redactText(more)})`
      const unknown = (error as {flags?: unknown}).flags
      if (Array.isArray(unknown) && /^Nonexistent flag/.test(error.message)) message = redactText(this.unknownFlags(unknown as string[]))
    } else {
      exitCode = BUG_EXIT_CODE
      message = `internal error: ${redactText(error?.message ?? String(error))} — this is a bug; rerun with DEBUG=queuectl for the stack`
    }
    const json = this.jsonEnabled()
    const document = {...partial, error: {message, exitCode, kind: error?.name ?? 'Error'}}
    // a command whose stdout is its data (export > file) keeps the error document out of the data
    if (json && (this.ctor as typeof BaseCommand).dataOnStdout) process.stderr.write(`${jsonEscaped(JSON.stringify(document))}\n`)
    else if (json) this.logJson(document)
    // the message may quote a broker's names or errors: one line, escaped for the terminal
    if (!json || partial) this.io.err.write(`${safeLine(line ?? `Error: ${message.replace(/\n/g, ' ')}`)}\n`)
    if (debug && error?.stack) this.io.err.write(`${safeBlock(redactText(error.stack))}\n`)
    this.exit(exitCode)
  }

  /** "Nonexistent flag --peak — did you mean --peek?", among this command's flags. */
  private unknownFlags(typed: string[]): string {
    const ctor = this.ctor as typeof BaseCommand
    const names = [...Object.keys({...ctor.baseFlags, ...ctor.flags}), 'json', 'help']
    return unknownFlagsMessage(typed, names, `${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''}`.trim())
  }

  override async finally(error: Error | undefined): Promise<unknown> {
    await Promise.allSettled(this.brokers.splice(0).map((b) => b.close()))
    return super.finally(error)
  }
}
