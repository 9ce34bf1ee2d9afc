import {releaseAll} from '../core/resources.js'

/**
 * Runs one command's work and then releases the process-wide resources it
 * opened (pooled connections), whatever the outcome. Every service's entry
 * point runs through here, so no command, store or step closes a pool itself.
 */
export async function runService<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } finally {
    await releaseAll()
  }
}
