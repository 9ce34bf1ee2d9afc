import {keyProblem} from '../../core/keys.js'
import {withRetry} from '../../net/retry.js'
import {type ObjectInfo, type RefusedEntry, type Store, isRefused} from '../store.js'

export interface Listing {
  /** Objects whose keys are safe to read, write and turn into paths. */
  readonly objects: ObjectInfo[]
  /** Names that must not be used: unsafe keys, links, non-regular files. Each is an integrity finding. */
  readonly refused: RefusedEntry[]
}

/**
 * Every object under a prefix, collected, with every key checked by the one
 * key-safety rule (core/keys) whatever the store, so that a store added later
 * gets the check for free. A listing that fails part way is retried from the start.
 */
export async function listAll(store: Store, prefix: string): Promise<Listing> {
  return withRetry('listing', async () => {
    const listing: Listing = {objects: [], refused: []}
    for await (const entry of store.list(prefix)) {
      if (isRefused(entry)) {
        listing.refused.push(entry)
        continue
      }
      const problem = keyProblem(entry.key)
      if (problem === undefined) listing.objects.push(entry)
      else listing.refused.push({key: entry.key, refused: problem})
    }
    return listing
  })
}
