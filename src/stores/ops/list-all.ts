import {withRetry} from '../../net/retry.js'
import type {ObjectInfo, Store} from '../store.js'

/** Every object under a prefix, collected; a listing that fails part way is retried from the start. */
export async function listAll(store: Store, prefix: string): Promise<ObjectInfo[]> {
  return withRetry('listing', async () => {
    const objects: ObjectInfo[] = []
    for await (const object of store.list(prefix)) objects.push(object)
    return objects
  })
}
