import {secretValues} from '../core/config.js'

/**
 * Removes credentials from text bound for a terminal, a log or JSON: the
 * values of known secret variables, URL userinfo, and URL query strings
 * (which carry signed-URL tokens).
 */
export function redact(text: string): string {
  let result = text
  for (const value of secretValues()) result = result.split(value).join('***')
  return result
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, '$1')
    .replace(/\b(authorization:\s*)(bearer|token|basic)\s+\S+/gi, '$1$2 ***')
}
