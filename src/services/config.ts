// Named contexts, kubectl style, in $XDG_CONFIG_HOME/queuectl/config.json.
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {NotFoundError, UsageError} from '../kernel/errors.js'
import {nearNames} from '../kernel/suggest.js'
import {TRANSPORT_OPTIONS} from '../adapters/registry.js'

export interface Context {
  url: string
  /** Transport connection options saved with it, by option name (mgmt-url, endpoint…). */
  options?: Record<string, string>
}

export interface Config {
  currentContext?: string
  contexts: Record<string, Context>
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return join(base, 'queuectl', 'config.json')
}

export async function loadConfig(path = configPath()): Promise<Config> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {contexts: {}}
    throw error
  }
  try {
    const parsed = JSON.parse(text) as Partial<Config>
    const contexts = Object.fromEntries(Object.entries(parsed.contexts ?? {}).map(([name, c]) => [name, upgradeContext(c)]))
    return {currentContext: parsed.currentContext, contexts}
  } catch {
    throw new UsageError(`the config file ${path} is not valid JSON — fix it or remove it and add contexts again`)
  }
}

/** A context as older versions saved it (an option in a field of its own, e.g. mgmtUrl) → options by name. */
function upgradeContext(context: Context): Context {
  const out: Context & Record<string, unknown> = {...context}
  for (const option of TRANSPORT_OPTIONS) {
    const key = option.legacyContextKey
    if (!key || typeof out[key] !== 'string') continue
    out.options = {[option.name]: out[key] as string, ...out.options}
    delete out[key]
  }
  return out
}

export async function saveConfig(config: Config, path = configPath()): Promise<void> {
  // 0600: contexts may hold passwords
  await writePrivateFile(path, `${JSON.stringify(config, null, 2)}\n`)
}

/** Writes `text` to `path` whole (a temporary file renamed over it), readable by its owner only, in a 0700 folder. */
export async function writePrivateFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), {recursive: true, mode: 0o700})
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, text, {mode: 0o600})
  await rename(tmp, path)
}

export function getContext(config: Config, name: string): Context {
  const context = config.contexts[name]
  if (!context) {
    const near = nearNames(name, Object.keys(config.contexts))
    const known = Object.keys(config.contexts)
    throw new NotFoundError(
      `context "${name}" not found — ${near.length > 0 ? `did you mean: ${near.join(', ')}?` : known.length > 0 ? `known: ${known.join(', ')}` : 'add one with `queue context add NAME URL`'}`,
      near,
    )
  }
  return context
}
