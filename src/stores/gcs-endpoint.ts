import {gcsEndpointSetting} from '../core/config.js'
import {endpointUrl, isLoopbackHost} from '../core/url-policy.js'

export interface GcsEndpoint {
  /** Origin (and optional path) of the JSON API, without `/storage/v1`. */
  readonly apiEndpoint: string
  /** Emulators on loopback take no credentials; any other custom endpoint gets ADC. */
  readonly authenticate: boolean
}

/**
 * The custom endpoint from E2B_ARTIFACTS_GCS_ENDPOINT, else STORAGE_EMULATOR_HOST.
 * Either may be a bare `host:port` and may end in `/storage/v1`: the SDK uses
 * STORAGE_EMULATOR_HOST verbatim as the JSON base but builds upload URLs from
 * it too, so the two only agree on fake-gcs-server once normalised to an origin.
 * The same endpoint serves the anonymous view (gcs-public-store.ts), so tests
 * run that against the emulator too.
 */
export function gcsEndpoint(): GcsEndpoint | undefined {
  const setting = gcsEndpointSetting()
  if (!setting) return undefined
  const url = endpointUrl(setting, 'http://127.0.0.1:4443')
  const path = url.pathname.replace(/\/+$/, '').replace(/\/storage\/v1$/, '')
  return {apiEndpoint: `${url.protocol}//${url.host}${path}`, authenticate: !isLoopbackHost(url.hostname)}
}
