import {UsageError} from '../core/errors.js'
import {type Location, gcsPublicView} from '../core/location.js'
import type {Store} from './store.js'

/**
 * Opens the store for a location, rooted at `root` inside it. Each provider's
 * module (and its SDK) is imported only when a location of that kind is used.
 */
export async function openStore(location: Location, root = ''): Promise<Store> {
  switch (location.scheme) {
    case 'file': {
      const {FileStore} = await import('./file-store.js')
      return new FileStore(location, root)
    }
    case 'http':
    case 'https': {
      const view = gcsPublicView(location)
      if (view && location.scheme === 'https') {
        const {GcsPublicStore} = await import('./gcs-public-store.js')
        return new GcsPublicStore(location, view, root)
      }
      const {HttpStore} = await import('./http-store.js')
      return new HttpStore(location, root)
    }
    case 'gs': {
      const {GcsStore} = await import('./gcs-store.js')
      return new GcsStore(location, root)
    }
    case 's3': {
      const {S3Store} = await import('./s3-store.js')
      return new S3Store(location, root)
    }
    case 'az': {
      const {AzureStore} = await import('./azure-store.js')
      return new AzureStore(location, root)
    }
    default: {
      throw new UsageError(`${location.display}: ${location.scheme} locations are not supported by this command yet`)
    }
  }
}
