// Secrets in URLs never reach output, logs or errors: every path to the user goes through here.

const SECRET_PARAMS = /^(password|pass|pwd|token|secret|access[_-]?key|secret[_-]?access[_-]?key|session[_-]?token|api[_-]?key|sig|signature|x-amz-[a-z-]+)$/i
const MASK = '***'

/** The URL with its password and secret query parameters masked. Unparseable input is masked whole after the scheme. */
export function redactUrl(url: string | URL): string {
  let parsed: URL
  try {
    parsed = typeof url === 'string' ? new URL(url) : new URL(url.href)
  } catch {
    return redactText(String(url))
  }
  if (parsed.password) parsed.password = MASK
  for (const key of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAMS.test(key)) parsed.searchParams.set(key, MASK)
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

// C0 and C1 controls, DEL, and the Unicode line and paragraph separators
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

// scheme://user:password@ → scheme://user:***@ ; also ?password=… in free text.
const USERINFO = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi
const QUERY_SECRET = /([?&](?:password|pass|pwd|token|secret|access[_-]?key|secret[_-]?access[_-]?key|session[_-]?token|api[_-]?key)=)([^&\s#]*)/gi

/** Masks anything that looks like a URL secret inside free text (error messages from drivers). */
export function redactText(text: string): string {
  let out = text.replace(USERINFO, (_m, head: string) => `${head}${MASK}@`)
  out = out.replace(QUERY_SECRET, (_m, head: string) => `${head}${MASK}`)
  for (const secret of knownSecrets) {
    if (secret.length >= 3) out = out.split(secret).join(MASK)
  }
  return out
}

// Passwords seen in URLs this process was given: drivers sometimes echo them without the URL around.
const knownSecrets = new Set<string>()

/** Remembers the secrets of a URL so that redactText masks them wherever they appear. */
export function rememberSecrets(url: URL): void {
  if (url.password) {
    knownSecrets.add(url.password)
    try {
      knownSecrets.add(decodeURIComponent(url.password))
    } catch {
      // a malformed escape: the raw form is already remembered
    }
  }
  for (const [key, value] of url.searchParams) {
    if (SECRET_PARAMS.test(key) && value) knownSecrets.add(value)
  }
}
