import type {Arch, Artifact} from '../core/catalog.js'
import {UsageError} from '../core/errors.js'
import type {GithubLocation} from '../core/location.js'

/** sha256 per arch recorded by a GitHub release (SHA256SUMS and the API's asset digests). */
export async function releaseDigests(location: GithubLocation, _artifact: Artifact, _version: string, _tag?: string): Promise<Map<Arch, string>> {
  throw new UsageError(`${location.display}: comparing against GitHub releases is not available yet`)
}
