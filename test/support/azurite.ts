/**
 * Azurite, Microsoft's Azure Blob emulator (npm `azurite`, a devDependency),
 * for tests of `az://` locations. CI starts it (.ci/start-servers.sh) and
 * passes E2B_TEST_AZURE_CONNECTION_STRING; otherwise a test process starts its
 * own on a free loopback port and stops it at exit.
 *
 * Always with --disableTelemetry: without it Azurite sends telemetry off the
 * machine. Also --loose (ignore headers it does not implement) and
 * --skipApiVersionCheck (@azure/storage-blob can be newer than the emulator).
 */
import {existsSync} from 'node:fs'
import path from 'node:path'

import {PROJECT_ROOT} from './cli.js'
import {freePort, startProcess, tempDataDir, waitUntilReady} from './processes.js'

/** Azurite's fixed development account (public, documented by Microsoft; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1'
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

export interface AzuriteServer {
  readonly connectionString: string
  /** http://127.0.0.1:PORT/devstoreaccount1 (path-style: the account is the first path segment). */
  readonly blobEndpoint: string
  readonly account: string
  /** Creates a container (the tool itself never creates one; infrastructure code does). */
  createContainer(name: string): Promise<void>
  /** AZURE_STORAGE_CONNECTION_STRING for the CLI under test. */
  readonly env: Record<string, string>
}

let azuritePromise: Promise<AzuriteServer> | undefined

/** Azurite: from E2B_TEST_AZURE_CONNECTION_STRING, or started here. One per test process. */
export function azuriteServer(): Promise<AzuriteServer> {
  azuritePromise ??= startAzurite()
  return azuritePromise
}

/** The connection string for Azurite's development account at `blobEndpoint`. */
export function azuriteConnectionString(blobEndpoint: string): string {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`
}

async function startAzurite(): Promise<AzuriteServer> {
  let connectionString = process.env.E2B_TEST_AZURE_CONNECTION_STRING
  let blobEndpoint: string
  if (connectionString) {
    blobEndpoint = blobEndpointOf(connectionString)
    await waitUntilReady('Azurite (E2B_TEST_AZURE_CONNECTION_STRING)', `${blobEndpoint}?comp=list`, undefined)
  } else {
    const main = path.join(PROJECT_ROOT, 'node_modules', 'azurite', 'dist', 'src', 'blob', 'main.js')
    if (!existsSync(main)) throw new Error(`${main} is missing: install the devDependencies with 'npm ci', or start Azurite and set E2B_TEST_AZURE_CONNECTION_STRING`)
    const port = await freePort()
    const dir = tempDataDir('azurite')
    const logFile = path.join(dir, 'azurite.log')
    const args = [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', path.join(dir, 'data'), '--loose', '--skipApiVersionCheck', '--disableTelemetry']
    const child = startProcess(process.execPath, args, logFile)
    blobEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`
    connectionString = azuriteConnectionString(blobEndpoint)
    // An unauthenticated listing gets 403: Azurite is up.
    await waitUntilReady('Azurite', `${blobEndpoint}?comp=list`, child, logFile)
  }
  const cs = connectionString
  return {
    account: AZURITE_ACCOUNT,
    blobEndpoint,
    connectionString: cs,
    async createContainer(name: string): Promise<void> {
      const {BlobServiceClient} = await import('@azure/storage-blob')
      await BlobServiceClient.fromConnectionString(cs).getContainerClient(name).create()
    },
    env: {AZURE_STORAGE_CONNECTION_STRING: cs},
  }
}

function blobEndpointOf(connectionString: string): string {
  const endpoint = /(?:^|;)BlobEndpoint=([^;]+)/i.exec(connectionString)?.[1]?.replace(/\/+$/, '')
  if (!endpoint) throw new Error('E2B_TEST_AZURE_CONNECTION_STRING has no BlobEndpoint=')
  const {hostname} = new URL(endpoint)
  if (hostname !== '127.0.0.1' && hostname !== 'localhost') throw new Error(`E2B_TEST_AZURE_CONNECTION_STRING points at ${hostname}, not at a loopback Azurite`)
  return endpoint
}
