// The servers and user of a multi-server URL (nats://, kafka://): the URL's host, then the
// comma-separated ?seeds=, each given the transport's default port; the user part decoded where it
// can be (a stray "%" is kept as typed).
import {UsageError} from '../../kernel/errors.js'

export function serversOf(url: URL, defaultPort: number): string[] {
  const scheme = url.protocol.replace(/(\+[a-z]+)?:$/, '') // kafka+ssl: → kafka
  const seeds = (url.searchParams.get('seeds') ?? '').split(',').filter(Boolean)
  return [url.host || `127.0.0.1:${defaultPort}`, ...seeds].map((raw) => {
    const host = raw.trim()
    if (!host) throw new UsageError(`an empty server in the ${scheme}:// URL — write ${scheme}://host:${defaultPort}[,host2:${defaultPort}]`)
    return /:\d+$/.test(host) || /^\[.*\]:\d+$/.test(host) ? host : `${host}:${defaultPort}`
  })
}

export function userOf(url: URL): {user?: string; password?: string} {
  return {user: url.username ? decode(url.username) : undefined, password: url.password ? decode(url.password) : undefined}
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
