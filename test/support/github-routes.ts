/**
 * GitHub release emulation for the test artifact server: the REST endpoints a
 * release download touches on the API host, and the separate asset host that
 * the API redirects to (objects.githubusercontent.com in real life). Kept out
 * of artifact-server.ts so the HTTP plumbing there stays generic; this module
 * only maps paths to responses and never touches sockets.
 */
import {createHash} from 'node:crypto'

export interface ReleaseAssetSpec {
  name: string
  body: Buffer | string
  /** Omitted: computed as `sha256:<hex>`. null: GitHub has no digest (older uploads). */
  digest?: string | null
}

export interface ReleaseSpec {
  owner: string
  repo: string
  tag: string
  assets: ReleaseAssetSpec[]
}

export interface ReleaseInfo {
  id: number
  tag: string
  assets: Array<{id: number; name: string; size: number; digest: string | null; sha256: string; assetPath: string}>
}

/** What a route answers; artifact-server turns it into an HTTP response (and applies faults). */
export interface RouteResult {
  status: number
  headers: Record<string, string>
  body: Buffer
  /** Raw bytes that honour Range requests (asset downloads). */
  rangeable?: boolean
}

interface StoredAsset {
  id: number
  name: string
  body: Buffer
  sha256: string
  digest: string | null
}

interface StoredRelease {
  id: number
  owner: string
  repo: string
  tag: string
  assets: StoredAsset[]
}

// Real GitHub ids are large integers; distinct ranges make mixing them up in a test visible.
let nextReleaseId = 1000
let nextAssetId = 500_000

const JSON_TYPE = 'application/json; charset=utf-8'

function json(status: number, value: unknown): RouteResult {
  return {status, headers: {'content-type': JSON_TYPE}, body: Buffer.from(JSON.stringify(value))}
}

function notFound(): RouteResult {
  return json(404, {message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404'})
}

function redirect(location: string): RouteResult {
  return {status: 302, headers: {location}, body: Buffer.alloc(0)}
}

/** Splits a raw pathname into decoded segments; undefined when a segment is malformed. */
function segments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').slice(1).map((s) => decodeURIComponent(s))
  } catch {
    return undefined
  }
}

const enc = encodeURIComponent

export class GitHubReleases {
  private readonly releases = new Map<string, StoredRelease>()

  /** `url` is the API/web listener, `assetsUrl` the asset-host listener. */
  constructor(private readonly url: string, private readonly assetsUrl: string) {}

  add(spec: ReleaseSpec): ReleaseInfo {
    const assets = spec.assets.map((a): StoredAsset => {
      const body = typeof a.body === 'string' ? Buffer.from(a.body) : a.body
      const sha256 = createHash('sha256').update(body).digest('hex')
      const digest = a.digest === undefined ? `sha256:${sha256}` : a.digest
      return {id: nextAssetId++, name: a.name, body, sha256, digest}
    })
    const release: StoredRelease = {id: nextReleaseId++, owner: spec.owner, repo: spec.repo, tag: spec.tag, assets}
    // Re-adding a tag replaces it, like deleting and re-publishing a release.
    this.releases.set(key(spec.owner, spec.repo, spec.tag), release)
    return {
      id: release.id,
      tag: release.tag,
      assets: assets.map((a) => ({
        id: a.id,
        name: a.name,
        size: a.body.length,
        digest: a.digest,
        sha256: a.sha256,
        assetPath: assetHostPath(release, a),
      })),
    }
  }

  clear(): void {
    this.releases.clear()
  }

  /** The asset-host path (no query) for fault(); throws so a typo fails the test loudly. */
  assetPath(owner: string, repo: string, tag: string, name: string): string {
    const release = this.releases.get(key(owner, repo, tag))
    const asset = release?.assets.find((a) => a.name === name)
    if (!release || !asset) throw new Error(`no release asset ${owner}/${repo}@${tag}/${name}`)
    return assetHostPath(release, asset)
  }

  /** Main-listener routes. undefined means "not a GitHub path", so other handlers may try. */
  handleMain(pathname: string, accept: string | undefined): RouteResult | undefined {
    const s = segments(pathname)
    if (!s) return undefined
    // /api/repos/{owner}/{repo}/releases/tags/{tag}
    if (s[0] === 'api') {
      if (s[1] !== 'repos' || s[4] !== 'releases') return notFound()
      const [owner, repo] = [s[2] ?? '', s[3] ?? '']
      if (s.length === 7 && s[5] === 'tags') {
        const release = this.releases.get(key(owner, repo, s[6] ?? ''))
        return release ? json(200, this.releaseJson(release)) : notFound()
      }
      // /api/repos/{owner}/{repo}/releases/assets/{id}
      if (s.length === 7 && s[5] === 'assets') {
        const found = this.findAsset(owner, repo, Number(s[6]))
        if (!found) return notFound()
        // GitHub only hands out bytes (via a redirect) when the client asks for them.
        if (accept?.includes('application/octet-stream')) return redirect(this.assetUrl(found.release, found.asset))
        return json(200, this.assetJson(found.release, found.asset))
      }
      return notFound()
    }
    // /{owner}/{repo}/releases/download/{tag}/{name}: only claimed when the release exists,
    // so a bucket object that happens to look like this path still reaches the object store.
    if (s.length === 6 && s[2] === 'releases' && s[3] === 'download') {
      const release = this.releases.get(key(s[0] ?? '', s[1] ?? '', s[4] ?? ''))
      const asset = release?.assets.find((a) => a.name === s[5])
      if (release && asset) return redirect(this.assetUrl(release, asset))
      return release ? notFound() : undefined
    }
    return undefined
  }

  /** Asset-listener routes: /{owner}/{repo}/{id}/{name}. */
  handleAssets(pathname: string): RouteResult {
    const s = segments(pathname)
    const found = s && s.length === 4 ? this.findAsset(s[0] ?? '', s[1] ?? '', Number(s[2])) : undefined
    if (!found || found.asset.name !== s?.[3]) {
      return {status: 404, headers: {'content-type': 'text/plain'}, body: Buffer.from('Not Found\n')}
    }
    const {asset} = found
    return {
      status: 200,
      headers: {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename=${asset.name}`,
        etag: `"0x${asset.sha256.slice(0, 16)}"`,
      },
      body: asset.body,
      rangeable: true,
    }
  }

  private findAsset(owner: string, repo: string, id: number): {release: StoredRelease; asset: StoredAsset} | undefined {
    for (const release of this.releases.values()) {
      if (release.owner !== owner || release.repo !== repo) continue
      const asset = release.assets.find((a) => a.id === id)
      if (asset) return {release, asset}
    }
    return undefined
  }

  private assetUrl(release: StoredRelease, asset: StoredAsset): string {
    // The query mimics the signed, short-lived URL GitHub redirects to; clients must not
    // need their Authorization header there.
    const p = `/${enc(release.owner)}/${enc(release.repo)}/${asset.id}/${enc(asset.name)}`
    return `${this.assetsUrl}${p}?token-in-query=x`
  }

  private releaseJson(r: StoredRelease): Record<string, unknown> {
    const base = `${this.url}/api/repos/${enc(r.owner)}/${enc(r.repo)}/releases`
    return {
      url: `${base}/${r.id}`,
      assets_url: `${base}/${r.id}/assets`,
      html_url: `${this.url}/${enc(r.owner)}/${enc(r.repo)}/releases/tag/${enc(r.tag)}`,
      id: r.id,
      tag_name: r.tag,
      name: r.tag,
      draft: false,
      prerelease: false,
      assets: r.assets.map((a) => this.assetJson(r, a)),
    }
  }

  private assetJson(r: StoredRelease, a: StoredAsset): Record<string, unknown> {
    return {
      url: `${this.url}/api/repos/${enc(r.owner)}/${enc(r.repo)}/releases/assets/${a.id}`,
      browser_download_url: `${this.url}/${enc(r.owner)}/${enc(r.repo)}/releases/download/${enc(r.tag)}/${enc(a.name)}`,
      id: a.id,
      name: a.name,
      content_type: 'application/octet-stream',
      state: 'uploaded',
      size: a.body.length,
      digest: a.digest,
    }
  }
}

function key(owner: string, repo: string, tag: string): string {
  return `${owner}/${repo}@${tag}`
}

/** Decoded form, matching how artifact-server normalises fault keys. */
function assetHostPath(release: StoredRelease, asset: StoredAsset): string {
  return `/${release.owner}/${release.repo}/${asset.id}/${asset.name}`
}
