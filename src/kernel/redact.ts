// Secrets in URLs never reach output, logs or errors: every path to the user goes through here.
// Redaction works on parsed URLs, one URL at a time, never by a pattern over joined text (a
// pattern that spans two URLs once ate the queue, counts and destination of an audit line).

const SECRET_PARAMS = /^(password|passwd|pass|pwd|token|auth[_-]?token|access[_-]?token|secret|client[_-]?secret|access[_-]?key|secret[_-]?access[_-]?key|secretaccesskey|session[_-]?token|api[_-]?key|sig|signature|x-amz-[a-z-]+)$/i
export const MASK = '***'

// Schemes whose user part alone is a secret (nats://TOKEN@host): declared by the transports.
const tokenUserSchemes = new Set<string>()

/** Declares schemes (without ':') whose user part, when it has no password, is a token. */
export function declareTokenUserSchemes(schemes: readonly string[]): void {
  for (const scheme of schemes) tokenUserSchemes.add(`${scheme.toLowerCase()}:`)
}

/** True when the parsed URL's user part with no password is a token. */
function userIsToken(url: URL): boolean {
  return url.username !== '' && url.password === '' && tokenUserSchemes.has(url.protocol)
}

/** The URL with its password, token user and secret query parameters masked. Unparseable input has its user part masked whole. */
export function redactUrl(url: string | URL): string {
  let parsed: URL
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href)
  } catch {
    return redactUnparsed(String(url))
  }
  if (parsed.password) parsed.password = MASK
  if (userIsToken(parsed)) parsed.username = MASK
  for (const [key, value] of [...parsed.searchParams]) {
    if (SECRET_PARAMS.test(key)) parsed.searchParams.set(key, MASK)
    // a URL in a parameter (endpoint=http://u:p@h) is redacted as a URL of its own
    else if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(value)) parsed.searchParams.set(key, redactUrl(value))
  }
  const href = parsed.href.replaceAll(encodeURIComponent(MASK), MASK)
  try {
    // readable: %2F vhosts, spaces; but an escaped control character stays escaped, so a URL
    // can never break the one-line error it is quoted in
    return decodeURI(href).replace(CONTROL, (ch) => encodeURIComponent(ch))
  } catch {
    return href // a stray "%" cannot be decoded: show it as given
  }
}

/** A URL text the parser refused (several hosts, a bad port): its user part split by hand, the password (or token) masked. */
function redactUnparsed(text: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)(\/\/)([^/?#]*)@(.*)$/is.exec(text)
  let masked = text
  if (m) {
    const [, scheme, slashes, userinfo, rest] = m as unknown as [string, string, string, string, string]
    const colon = userinfo.indexOf(':')
    const user = colon >= 0 ? `${userinfo.slice(0, colon)}:${MASK}` : tokenUserSchemes.has(scheme.toLowerCase()) ? MASK : userinfo
    masked = `${scheme}${slashes}${user}@${rest}`
  }
  return masked.replace(QUERY_SECRET, (_m, head: string) => `${head}${MASK}`).replace(CONTROL, (ch) => encodeURIComponent(ch))
}

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

// one URL in free text: up to a space, quote or bracket that cannot be part of it
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi
// key=value outside a URL (a driver's "password=… " in a message): the value up to a separator
const QUERY_SECRET = /((?:^|[?&;\s])(?:password|passwd|pass|pwd|token|secret|access[_-]?key|secret[_-]?access[_-]?key|session[_-]?token|api[_-]?key)=)([^&;\s#"'<>]*)/gi

/** True when a URL text carries anything redactUrl would mask. */
function hasSecret(text: string): boolean {
  if (!URL.canParse(text)) return /:\/\/[^/?#]*@/.test(text) || new RegExp(QUERY_SECRET.source, 'i').test(text)
  const url = new URL(text)
  return url.password !== '' || userIsToken(url) || [...url.searchParams].some(([k, v]) => SECRET_PARAMS.test(k) || /:\/\/[^/?#]*@/.test(v))
}

/** Masks the secrets inside free text (error messages from drivers): each URL in it on its own, then the passwords this process was given. */
export function redactText(text: string): string {
  const input = String(text)
  const out: string[] = []
  let last = 0
  for (const match of input.matchAll(URL_IN_TEXT)) {
    out.push(maskLoose(input.slice(last, match.index)), maskUrlToken(match[0]))
    last = match.index + match[0].length
  }
  out.push(maskLoose(input.slice(last)))
  return out.join('')
}

/** Text outside URLs: key=secret values and the passwords this process was given. */
function maskLoose(text: string): string {
  return maskKnown(text.replace(QUERY_SECRET, (_m, head: string) => `${head}${MASK}`))
}

/**
 * One URL of free text in the one redacted form, user:***@: a user whose password is masked
 * stays readable even when it equals a known password (guest:guest is shown guest:***@, not ***:***@).
 */
function maskUrlToken(token: string): string {
  const shown = hasSecret(token) ? redactUrl(token) : token
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*:\*\*\*@)(.*)$/is.exec(shown)
  return m ? `${m[1]}${m[2]}${maskLoose(m[3]!)}` : maskLoose(shown)
}

function maskKnown(text: string): string {
  let out = text
  for (const secret of knownSecrets) {
    if (secret.length >= 3) out = out.split(secret).join(MASK)
  }
  return out
}

/** A JSON-able value with every string in it redacted (redactText), keys and structure untouched: for the audit log and NDJSON. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v)])) as T
  }
  return value
}

// Passwords seen in URLs this process was given: drivers sometimes echo them without the URL around.
const knownSecrets = new Set<string>()

/** Remembers a secret given outside a URL (an SQS key from the environment) so that redactText masks it wherever it appears. */
export function rememberSecret(secret: string | undefined): void {
  if (!secret) return
  knownSecrets.add(secret)
  try {
    knownSecrets.add(decodeURIComponent(secret))
    knownSecrets.add(encodeURIComponent(secret))
  } catch {
    // a malformed escape: the raw form is already remembered
  }
}

/** Remembers the secrets of a URL so that redactText masks them wherever they appear. */
export function rememberSecrets(url: URL): void {
  rememberSecret(url.password)
  if (userIsToken(url)) rememberSecret(url.username)
  for (const [key, value] of url.searchParams) {
    if (SECRET_PARAMS.test(key)) rememberSecret(value)
  }
}
