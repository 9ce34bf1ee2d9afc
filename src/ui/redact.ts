/** Environment variables whose values must never be printed. */
const SECRET_VARIABLES = [
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_STORAGE_KEY',
  'AZURE_STORAGE_CONNECTION_STRING',
  'AZURE_STORAGE_SAS_TOKEN',
]

/**
 * Removes credentials from text bound for a terminal, a log or JSON: the
 * values of known secret variables, URL userinfo, and URL query strings
 * (which carry signed-URL tokens).
 */
export function redact(text: string): string {
  let result = text
  for (const name of SECRET_VARIABLES) {
    const value = process.env[name]
    if (value && value.length >= 4) result = result.split(value).join('***')
  }
  return result
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1')
    .replace(/\b(authorization:\s*)(bearer|token|basic)\s+\S+/gi, '$1$2 ***')
}

/** Any value, redacted through its JSON form. */
export function redactJson<T>(value: T): T {
  return JSON.parse(redact(JSON.stringify(value))) as T
}
