import {ARCHES, type Arch, type Artifact} from '../../core/catalog.js'
import {IntegrityError, NotFoundError} from '../../core/errors.js'
import type {GithubLocation} from '../../core/location.js'
import {GithubSource} from './release-source.js'

/**
 * The sha256 a GitHub release records for each arch: its SHA256SUMS entry. An
 * API asset digest that contradicts SHA256SUMS makes the release itself
 * inconsistent, which is an integrity error. Arches without an asset are left out.
 */
export async function releaseDigests(location: GithubLocation, artifact: Artifact, version: string, tag?: string): Promise<Map<Arch, string>> {
  const source = new GithubSource(location, {artifact, tag: tag ?? `v${version}`, version})
  const digests = new Map<Arch, string>()
  try {
    for (const arch of ARCHES) {
      let expected
      try {
        ;({expected} = await source.locate(arch))
      } catch (error) {
        if (error instanceof NotFoundError) continue
        throw error
      }
      const sums = expected.find((digest) => digest.by === 'SHA256SUMS')!
      const contradiction = expected.find((digest) => digest.sha256 !== sums.sha256)
      if (contradiction) throw new IntegrityError(`${contradiction.where} is ${contradiction.sha256}, but ${sums.where} says ${sums.sha256}`)
      digests.set(arch, sums.sha256)
    }
    return digests
  } finally {
    await source.close()
  }
}
