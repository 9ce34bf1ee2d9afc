import type {Readable} from 'node:stream'

import {type GithubSettings, githubSettings} from '../core/config.js'
import {IntegrityError, NotFoundError, OperationalError, UsageError} from '../core/errors.js'
import {assertSafeKey, keyProblem} from '../core/keys.js'
import type {GithubLocation} from '../core/location.js'
import {endpointUrl, isAllowedUrl} from '../core/url-policy.js'
import {normalizeDigest} from '../integrity/sidecar.js'
import {contentLength, httpRequest} from '../net/http-client.js'
import {readBounded} from '../net/read-bounded.js'
import {withRetry} from '../net/retry.js'
import type {ObjectBody, ObjectInfo, ReadOptions, RefusedEntry, Store} from './store.js'

/** Release metadata is a few KiB; a cap keeps a misbehaving server from filling memory. */
const RELEASE_JSON_MAX_BYTES = 8 * 1024 * 1024
const API_VERSION = '2022-11-28'

/** Where GitHub lives, following the Actions conventions (GHES sets both URLs). */
export interface GithubEndpoints {
  /** Without a trailing slash: https://api.github.com or https://ghe.example/api/v3. */
  readonly apiUrl: string
  readonly serverUrl: string
  readonly token?: string
}

/** GITHUB_API_URL, GITHUB_SERVER_URL and GITHUB_TOKEN, with github.com defaults. */
export function githubEndpoints(settings: GithubSettings = githubSettings()): GithubEndpoints {
  const base = (setting: GithubSettings['apiUrl']): string => endpointUrl(setting, 'https://api.github.com').href.replace(/\/+$/, '')
  return {apiUrl: base(settings.apiUrl), serverUrl: base(settings.serverUrl), ...(settings.token ? {token: settings.token} : {})}
}

/** The parts of a release asset that a download needs. */
export interface ReleaseAsset {
  readonly name: string
  /** The API URL; with `Accept: application/octet-stream` it redirects to the asset host. */
  readonly url: string
  readonly size: number
  /** Lowercase hex sha256 from the API's `digest` field, when GitHub computed one. */
  readonly sha256?: string
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Validates the fields we rely on, so a surprising API answer fails clearly instead of deep inside a download. */
function parseAssets(json: unknown, where: string): ReleaseAsset[] {
  if (!isRecord(json) || !Array.isArray(json.assets)) throw new OperationalError(`${where}: unexpected API response (no assets list)`)
  return json.assets.map((asset: unknown): ReleaseAsset => {
    if (!isRecord(asset) || typeof asset.name !== 'string' || typeof asset.size !== 'number') {
      throw new OperationalError(`${where}: unexpected API response (malformed asset)`)
    }
    const url = typeof asset.url === 'string' ? asset.url : asset.browser_download_url
    if (typeof url !== 'string' || !isAllowedUrl(url)) throw new OperationalError(`${where}: asset ${asset.name} has no usable https download URL`)
    // GitHub reports `sha256:<hex>` for assets uploaded since mid-2025, null before; other algorithms are ignored.
    const digest = typeof asset.digest === 'string' && /^sha256:/i.test(asset.digest) ? asset.digest : undefined
    return {
      name: asset.name,
      size: asset.size,
      url,
      ...(digest ? {sha256: normalizeDigest(digest, `the API digest of ${where}/${asset.name}`)} : {}),
    }
  })
}

async function readJson(body: Readable, where: string): Promise<unknown> {
  const content = await readBounded(body, RELEASE_JSON_MAX_BYTES, where, () => new OperationalError(`${where}: API response larger than ${RELEASE_JSON_MAX_BYTES} bytes`))
  try {
    return JSON.parse(content.toString('utf8')) as unknown
  } catch {
    throw new OperationalError(`${where}: the API answered with something other than JSON`)
  }
}

export interface GithubReleaseOptions {
  readonly endpoints?: GithubEndpoints
  readonly onRetry?: (message: string) => void
}

/**
 * One GitHub release seen as a read-only store whose keys are asset names.
 * `stat` reports the API's sha256 digest as the object's sha256. The token
 * goes to the API and GitHub's own host only: downloads redirect to a
 * separate asset host, and http-client drops Authorization on the way there.
 */
export class GithubReleaseStore implements Store {
  readonly provider = 'github'
  readonly display: string
  private readonly endpoints: GithubEndpoints
  private assetsPromise?: Promise<readonly ReleaseAsset[]>

  constructor(
    private readonly location: GithubLocation,
    readonly tag: string,
    private readonly options: GithubReleaseOptions = {},
  ) {
    this.endpoints = options.endpoints ?? githubEndpoints()
    this.display = `${location.display}@${tag}`
  }

  /** Origins allowed to receive the token. */
  private credentialOrigins(): string[] {
    return [new URL(this.endpoints.apiUrl).origin, new URL(this.endpoints.serverUrl).origin]
  }

  private headers(accept: string): Record<string, string> {
    return {
      accept,
      'user-agent': 'e2b-artifacts',
      'x-github-api-version': API_VERSION,
      ...(this.endpoints.token ? {authorization: `Bearer ${this.endpoints.token}`} : {}),
    }
  }

  /** The release's assets, looked up once per process. */
  assets(): Promise<readonly ReleaseAsset[]> {
    this.assetsPromise ??= this.lookUpRelease()
    return this.assetsPromise
  }

  private async lookUpRelease(): Promise<readonly ReleaseAsset[]> {
    const {owner, repo} = this.location
    const url = `${this.endpoints.apiUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/releases/tags/${encodeURIComponent(this.tag)}`
    try {
      return await withRetry(
        'GitHub release lookup',
        async () => {
          const response = await httpRequest(url, {credentialOrigins: this.credentialOrigins(), headers: this.headers('application/vnd.github+json')})
          return parseAssets(await readJson(response.body, this.display), this.display)
        },
        {onRetry: this.options.onRetry},
      )
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error
      const hint = this.endpoints.token ? 'check --tag and --version' : 'check --tag and --version (and set GITHUB_TOKEN for a private repository)'
      throw new NotFoundError(`release tag ${this.tag} not found in ${owner}/${repo}: ${hint}`, {cause: error})
    }
  }

  /** The asset named `key`; names from the API document pass the key-safety rule before any use. */
  private async asset(key: string): Promise<ReleaseAsset | undefined> {
    assertSafeKey(key, this.display)
    return (await this.assets()).find((asset) => asset.name === key)
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    const asset = await this.asset(key)
    if (!asset) return undefined
    return {key, size: asset.size, ...(asset.sha256 ? {sha256: asset.sha256} : {})}
  }

  async read(key: string, options: ReadOptions = {}): Promise<ObjectBody> {
    const asset = await this.asset(key)
    if (!asset) throw new NotFoundError(`${this.display} has no asset ${key}`)
    if (options.maxBytes !== undefined && asset.size > options.maxBytes) {
      throw new IntegrityError(`${this.display}/${key} is ${asset.size} bytes, larger than the ${options.maxBytes}-byte limit for this file`)
    }
    const response = await httpRequest(asset.url, {
      credentialOrigins: this.credentialOrigins(),
      headers: this.headers('application/octet-stream'),
      signal: options.signal,
    })
    // The API's size stands in when the asset host sends no Content-Length, so truncation is still caught.
    return {body: response.body, size: contentLength(response) ?? asset.size}
  }

  /** GitHub computes the asset digest from the bytes, so it is evidence (`sha256`), not a client's metadata. */
  async *list(prefix: string): AsyncIterable<ObjectInfo | RefusedEntry> {
    for (const asset of await this.assets()) {
      if (!asset.name.startsWith(prefix)) continue
      const problem = keyProblem(asset.name)
      yield problem === undefined ? {key: asset.name, size: asset.size, ...(asset.sha256 ? {sha256: asset.sha256} : {})} : {key: asset.name, refused: problem}
    }
  }

  async write(): Promise<ObjectInfo> {
    throw new UsageError(`${this.display} is read-only: GitHub releases are a source, not a destination`)
  }

  async remove(): Promise<void> {
    throw new UsageError(`${this.display} is read-only`)
  }
}
