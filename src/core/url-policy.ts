import type {NamedSetting} from './config.js'
import {UsageError} from './errors.js'

/**
 * The one transport rule for every URL the tool connects to: https anywhere,
 * plain http only to a loopback host (test servers and emulators). Locations,
 * endpoints from the environment, API documents and redirects all pass here.
 */

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host)
}

export function isAllowedTransport(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname))
}

/** Whether a string is a URL the tool may connect to. */
export function isAllowedUrl(value: string): boolean {
  try {
    return isAllowedTransport(new URL(value))
  } catch {
    return false
  }
}

/** Removes credentials, query strings and fragments from anything URL-shaped. */
export function redactUrl(input: string): string {
  return input.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1').replace(/[?#].*$/, '')
}

/**
 * An endpoint named by an environment variable, checked against the transport
 * rule. A bare `host:port` gets https, or http for loopback (emulators are
 * configured that way). Errors name the variable, never a credential.
 */
export function endpointUrl(setting: NamedSetting, example: string): URL {
  const {name, value} = setting
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `${isLoopbackHost(value.split(':')[0] ?? '') ? 'http' : 'https'}://${value}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new UsageError(`${name}='${redactUrl(value)}' is not a URL: use e.g. ${example}`)
  }
  if (!isAllowedTransport(url)) throw new UsageError(`${name}: plain http is allowed only for loopback hosts, not '${url.hostname}'`)
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError(`${name} must not carry credentials, a query or a fragment`)
  }
  return url
}
