import {type Comparison, type ContentFacts, compareContent} from '../../integrity/content-identity.js'
import type {RetryOptions} from '../../net/retry.js'
import type {ObjectInfo, Store} from '../store.js'
import {hashObject} from './hash-object.js'

/** Named in reports when a digest had to be computed by reading the content. */
export const REHASHED = 'sha256 (rehashed)'

/**
 * Whether a stored object holds exactly `expected`: by the digests its
 * metadata shares with `expected` (content-identity's policy), and when they
 * share none, by rehashing the content. Never decided on size alone, and
 * never 'unknown'.
 */
export async function compareStored(store: Store, stored: ObjectInfo, expected: ContentFacts & {readonly sha256: string}, options: RetryOptions = {}): Promise<Exclude<Comparison, {verdict: 'unknown'}>> {
  const byMetadata = compareContent(stored, expected)
  if (byMetadata.verdict !== 'unknown') return byMetadata
  const content = await hashObject(store, stored.key, options)
  const byContent = compareContent(content, {sha256: expected.sha256, size: expected.size})
  return byContent.verdict === 'same' ? {by: [REHASHED], verdict: 'same'} : {by: REHASHED, verdict: 'different'}
}
