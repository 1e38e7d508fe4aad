// How a prompt names where it acts. A Redis URL without a database is database 0: the prompt says
// so, since the same host holds 16 of them. Only the text changes: displayUrl stays the broker's
// own (commands and tests compare it), the db is added beside it.

/** `redis://host:6379 (db 0)` for a Redis URL that gives no database; any other URL as it is. */
export function targetName(displayUrl: string): string {
  const m = /^rediss?:\/\/[^/?#]*(\/[^?#]*)?(\?[^#]*)?$/.exec(displayUrl)
  if (!m) return displayUrl
  if ((m[1] ?? '').replace(/^\/+/, '')) return displayUrl
  if (m[2] && new URLSearchParams(m[2].slice(1)).get('db')) return displayUrl
  return `${displayUrl} (db 0)`
}
