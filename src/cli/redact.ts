import {secretValues} from '../core/config.js'

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi
const URL_QUERY = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi
const AUTHORIZATION = /\b(authorization:\s*)(bearer|token|basic)\s+\S+/gi

/**
 * Removes credentials from text bound for a terminal, a log or JSON: the
 * values of known secret variables, URL userinfo, and URL query strings
 * (which carry signed-URL tokens).
 *
 * Each pattern runs only on text that holds what it needs to match (a
 * `://`, the word authorization in any case): most lines hold neither, and
 * the no-op `fetch` that runs on every `make` prints one line.
 */
export function redact(text: string): string {
  let result = text
  for (const value of secretValues()) if (result.includes(value)) result = result.split(value).join('***')
  if (result.includes('://')) result = result.replace(URL_USERINFO, '$1').replace(URL_QUERY, '$1')
  // Without the u flag, /i folds no non-ASCII character to an ASCII one: a match is ASCII, in some case.
  if (result.toLowerCase().includes('authorization')) result = result.replace(AUTHORIZATION, '$1$2 ***')
  return result
}
