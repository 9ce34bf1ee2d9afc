import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {Artifact} from './catalog.js'
import {GCS_PUBLIC_HOST} from './config.js'
import {UsageError} from './errors.js'
import {isAllowedTransport, redactUrl} from './url-policy.js'

export type Layout = 'public' | 'env'

interface LocationBase {
  /** Where this location points, safe to print: no credentials, no query. */
  readonly display: string
}

export interface HttpLocation extends LocationBase {
  readonly scheme: 'http' | 'https'
  /** Origin plus path, without a trailing slash: `https://host/bucket/prefix`. */
  readonly baseUrl: string
  readonly segments: readonly string[]
}

export interface FileLocation extends LocationBase {
  readonly scheme: 'file'
  readonly dir: string
}

export interface BucketLocation extends LocationBase {
  readonly scheme: 'gs' | 's3' | 'az'
  /** For az: the container; the account is kept in `account`. */
  readonly bucket: string
  readonly account?: string
  /** Path under the bucket, without leading or trailing slashes ('' for the root). */
  readonly prefix: string
}

export interface GithubLocation extends LocationBase {
  readonly scheme: 'github'
  readonly owner: string
  readonly repo: string
}

export type Location = BucketLocation | FileLocation | GithubLocation | HttpLocation

const GCS_BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const AZ_ACCOUNT = /^[a-z0-9]{3,24}$/
const AZ_CONTAINER = /^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$/
const GITHUB_NAME = /^[A-Za-z0-9_.-]{1,100}$/

function splitPath(rawPath: string, what: string): string[] {
  const segments = rawPath.split('/').filter((s) => s !== '')
  for (const segment of segments) {
    if (segment === '.' || segment === '..') throw new UsageError(`invalid ${what}: '.' and '..' are not allowed in a location path`)
  }
  return segments
}

/** A location scheme (`gs://`, `https://`, `github:`, …) followed, later in the same word, by an '@'. */
const AT_AFTER_SCHEME = /([a-z][a-z0-9+.-]*:\/\/|github:)\S*@/gi

/**
 * Whether `text` carries what may be URL credentials, and if so `text` with
 * everything from the scheme to the last '@' replaced by `***`, safe to
 * print. Any '@' after a scheme counts, not only a well-formed `user:secret@`:
 * a secret with an unescaped '/' (AWS secret keys have them) breaks URL
 * parsing, and must not be echoed by the error about that either. Bucket,
 * account, repository and version names never hold an '@'; a path that does
 * writes it as %40.
 */
export function withoutUrlCredentials(text: string): string | undefined {
  // Both patterns need an '@'; every command checks every argument, and most have none.
  if (!text.includes('@')) return undefined
  const masked = text.replaceAll(AT_AFTER_SCHEME, '$1***@')
  return masked === text && !/(?::\/\/|github:)\*\*\*@/i.test(text) ? undefined : masked
}

/** The usage error for a location that carries credentials; the secret is never part of it. */
export function credentialsInLocation(shown: string): UsageError {
  return new UsageError(
    `location '${shown}' carries credentials (user:password@): remove them; gs:// uses Application Default Credentials, s3:// the AWS credential chain, github: GITHUB_TOKEN (an '@' in a path is written %40)`,
  )
}

function decodePath(pathname: string, input: string): string {
  try {
    return decodeURIComponent(pathname)
  } catch {
    throw new UsageError(`invalid location '${redactUrl(input)}': malformed %-escape in the path (a '%' must be followed by two hex digits; write '%' itself as %25)`)
  }
}

function parseHttp(input: string): HttpLocation {
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw new UsageError(`invalid location '${redactUrl(input)}': not a valid URL`)
  }
  const scheme = url.protocol === 'https:' ? 'https' : 'http'
  if (!isAllowedTransport(url)) {
    throw new UsageError(`refusing plain http to non-loopback host '${url.hostname}': use https://`)
  }
  if (url.search || url.hash) throw new UsageError(`invalid location '${redactUrl(input)}': query strings and fragments are not allowed`)
  const segments = splitPath(decodePath(url.pathname, input), 'location')
  if (segments.length === 0) throw new UsageError(`invalid location '${redactUrl(input)}': name a bucket, as in https://host/bucket`)
  if (scheme === 'https' && url.hostname === GCS_PUBLIC_HOST && !GCS_BUCKET.test(segments[0]!)) {
    throw new UsageError(`invalid location '${redactUrl(input)}': '${segments[0]}' is not a valid GCS bucket name`)
  }
  const baseUrl = `${url.protocol}//${url.host}/${segments.map((s) => encodeURIComponent(s)).join('/')}`
  return {baseUrl, display: baseUrl, scheme, segments}
}

/** A public GCS bucket seen through `https://storage.googleapis.com/BUCKET[/prefix]`. */
export interface GcsPublicView {
  readonly bucket: string
  /** Path under the bucket, without leading or trailing slashes ('' for the root). */
  readonly prefix: string
}

/**
 * The anonymous view of a public GCS bucket, when the location is one: read
 * and listed through GCS's JSON API with no credentials (DESIGN.md).
 */
export function gcsPublicView(location: Location): GcsPublicView | undefined {
  if (location.scheme !== 'https' || new URL(location.baseUrl).hostname !== GCS_PUBLIC_HOST) return undefined
  const [bucket = '', ...prefix] = location.segments
  return {bucket, prefix: prefix.join('/')}
}

/** Whether the tool can list a location: buckets, directories, and the anonymous GCS view (not other https hosts). */
export function isListable(location: Location): boolean {
  if (location.scheme === 'http' || location.scheme === 'https') return gcsPublicView(location) !== undefined
  return location.scheme !== 'github'
}

function parseBucket(scheme: 'gs' | 's3', rest: string, input: string): BucketLocation {
  const [bucket = '', ...pathParts] = rest.split('/')
  const pattern = scheme === 'gs' ? GCS_BUCKET : S3_BUCKET
  if (!pattern.test(bucket) || bucket.includes('..')) {
    throw new UsageError(`invalid ${scheme}:// location '${input}': '${bucket}' is not a valid bucket name`)
  }
  const prefix = splitPath(pathParts.join('/'), 'location').join('/')
  return {bucket, display: `${scheme}://${bucket}${prefix ? `/${prefix}` : ''}`, prefix, scheme}
}

function parseAzure(rest: string, input: string): BucketLocation {
  const [account = '', container = '', ...pathParts] = rest.split('/')
  if (!AZ_ACCOUNT.test(account) || !AZ_CONTAINER.test(container)) {
    throw new UsageError(`invalid az:// location '${input}': expected az://account/container[/prefix]`)
  }
  const prefix = splitPath(pathParts.join('/'), 'location').join('/')
  return {account, bucket: container, display: `az://${account}/${container}${prefix ? `/${prefix}` : ''}`, prefix, scheme: 'az'}
}

function parseGithub(rest: string, input: string): GithubLocation {
  const parts = rest.split('/')
  const [owner = '', repo = ''] = parts
  if (parts.length !== 2 || !GITHUB_NAME.test(owner) || !GITHUB_NAME.test(repo) || owner.startsWith('.') || repo.startsWith('.')) {
    throw new UsageError(`invalid GitHub location '${input}': expected github:owner/repo`)
  }
  return {display: `github:${owner}/${repo}`, owner, repo, scheme: 'github'}
}

function fileLocation(dir: string): FileLocation {
  const resolved = path.resolve(dir)
  return {dir: resolved, display: resolved, scheme: 'file'}
}

/**
 * Parses a location flag. Anything unknown is a usage error, raised before any
 * connection is attempted.
 */
export function parseLocation(input: string): Location {
  if (input.trim() === '') throw new UsageError('empty location')
  const redacted = withoutUrlCredentials(input)
  if (redacted !== undefined) throw credentialsInLocation(redacted)
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(input)
  if (!schemeMatch) return fileLocation(input)
  const scheme = schemeMatch[1]!.toLowerCase()
  switch (scheme) {
    case 'az': {
      return parseAzure(input.slice('az://'.length), input)
    }
    case 'file': {
      let dir: string
      try {
        dir = fileURLToPath(input)
      } catch {
        throw new UsageError(`invalid file location '${input}': use file:///absolute/dir or a plain path`)
      }
      return fileLocation(dir)
    }
    case 'github': {
      return parseGithub(input.slice('github:'.length), input)
    }
    case 'gs':
    case 's3': {
      if (!input.slice(scheme.length).startsWith('://')) throw new UsageError(`invalid location '${input}': expected ${scheme}://bucket[/prefix]`)
      return parseBucket(scheme, input.slice(scheme.length + 3), input)
    }
    case 'http':
    case 'https': {
      return parseHttp(input)
    }
    default: {
      throw new UsageError(`unsupported location scheme '${scheme}:' in '${redactUrl(input)}': use https://, gs://, s3://, file:// or a path`)
    }
  }
}

/** The last path segment of a location, or its bucket when it has no path. */
function lastSegment(location: Location): string {
  switch (location.scheme) {
    case 'file': {
      return path.basename(location.dir)
    }
    case 'github': {
      return location.repo
    }
    case 'http':
    case 'https': {
      return location.segments.at(-1) ?? ''
    }
    default: {
      return location.prefix.split('/').at(-1) || location.bucket
    }
  }
}

/** Which layout a location holds for an artifact, decided from its name alone (or the override). */
export function layoutOf(location: Location, artifact: Artifact, override?: Layout): Layout {
  if (override) return override
  const last = lastSegment(location)
  return last === artifact.publicPrefix || last.endsWith(artifact.envSuffix) ? 'env' : 'public'
}

/** The key prefix, inside the location, under which the artifact's `{version}/{arch}/{file}` keys start. */
export function artifactRoot(location: Location, artifact: Artifact, override?: Layout): string {
  return layoutOf(location, artifact, override) === 'env' ? '' : artifact.publicPrefix
}

/** `--layout public|env`, when given. */
export function parseLayout(input: string | undefined): Layout | undefined {
  if (input === undefined) return undefined
  if (input === 'public' || input === 'env') return input
  throw new UsageError(`invalid --layout '${input}': expected public or env`)
}
