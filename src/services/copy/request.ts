import {ARTIFACT_NAMES, type Artifact, artifactNamed, validateVersion} from '../../core/catalog.js'
import {defaultCopySource} from '../../core/config.js'
import {UsageError} from '../../core/errors.js'
import {type Layout, type Location, isListable, parseLayout, parseLocation} from '../../core/location.js'
import {type LockPath, chooseLockPath} from '../shared/lock-file-io.js'

/** One artifact to copy: where its objects come from and where they go. */
export interface CopyTarget {
  readonly artifact: Artifact
  readonly to: Location
}

export interface CopyRequest {
  readonly from: Location
  readonly targets: readonly CopyTarget[]
  readonly version?: string
  readonly concurrency: number
  readonly dryRun: boolean
  readonly force: boolean
  /** `--layout`: how the destinations hold the artifacts (the source's layout is read from its name). */
  readonly layout?: Layout
  /** `--lock PATH` or E2B_ARTIFACTS_LOCK: objects the lock pins are copied only if they match it (never looked for). */
  readonly lock?: LockPath
}

export interface CopyFlags {
  readonly from?: string
  readonly provider?: string
  readonly 'bucket-prefix'?: string
  readonly 'storage-account'?: string
  readonly to?: readonly string[]
  readonly artifact?: readonly string[]
  readonly version?: string
  readonly concurrency?: number
  readonly 'dry-run'?: boolean
  readonly force?: boolean
  readonly layout?: string
  readonly lock?: string
}

/** Providers named by a bucket prefix; Azure is named by its storage account instead (see providerDestination). */
const PROVIDER_SCHEMES: Readonly<Record<string, 'gs' | 's3'>> = {aws: 's3', gcp: 'gs'}
const PROVIDERS = 'gcp|aws|azure'
const WRITABLE = 'gs://, s3://, az:// or file://'

/**
 * The source must be listable: a bucket, a directory, or the anonymous view
 * of a public GCS bucket (`https://storage.googleapis.com/BUCKET[/prefix]`,
 * listed with no credentials). Other https hosts serve objects but no listing.
 */
function parseSource(input: string, fromVariable: boolean): Location {
  const location = parseLocation(input)
  if (isListable(location) && location.scheme !== 'github') return location
  const named = fromVariable ? `E2B_ARTIFACTS_COPY_FROM=${location.display}` : location.display
  if (location.scheme === 'http' || location.scheme === 'https') {
    throw new UsageError(`cannot list ${named}: only the anonymous view https://storage.googleapis.com/BUCKET can be listed over https; pass --from with it, or a gs://, s3:// or file:// location`)
  }
  throw new UsageError(`cannot copy from ${named}: --from must be a gs://, s3://, az:// or file:// location, or https://storage.googleapis.com/BUCKET`)
}

function parseDestination(input: string, what: string): Location {
  const location = parseLocation(input)
  if (location.scheme === 'gs' || location.scheme === 's3' || location.scheme === 'az' || location.scheme === 'file') return location
  throw new UsageError(`${what} ${location.display} is not writable by this command: use ${WRITABLE}`)
}

/** `--to ARTIFACT=LOCATION` pairs, each artifact at most once. */
function explicitDestinations(pairs: readonly string[]): Map<string, Location> {
  const destinations = new Map<string, Location>()
  for (const pair of pairs) {
    const separator = pair.indexOf('=')
    if (separator <= 0) throw new UsageError(`invalid --to '${pair}': expected ARTIFACT=LOCATION, as in busybox=gs://my-env-fc-busybox`)
    const artifact = artifactNamed(pair.slice(0, separator))
    if (destinations.has(artifact.name)) throw new UsageError(`--to names ${artifact.name} twice`)
    destinations.set(artifact.name, parseDestination(pair.slice(separator + 1), `--to ${artifact.name}=`))
  }
  return destinations
}

/** Where `--provider` puts one artifact: its env bucket or container, named by the provider's flag. */
interface ProviderFlags {
  readonly provider: string
  readonly bucketPrefix?: string
  readonly storageAccount?: string
}

/**
 * `--provider gcp|aws --bucket-prefix P`: `{gs|s3}://{P}{envSuffix}`;
 * `--provider azure --storage-account A`: `az://{A}/{envSuffix}` (upstream's
 * containers fc-kernels, fc-versions and fc-busybox in one account).
 */
function providerDestination(flags: ProviderFlags, artifact: Artifact): Location {
  if (flags.provider === 'azure') {
    const account = flags.storageAccount!
    if (!/^[a-z0-9]{3,24}$/.test(account)) throw new UsageError(`invalid --storage-account '${account}': an Azure storage account name is 3 to 24 lowercase letters and digits`)
    return parseDestination(`az://${account}/${artifact.envSuffix}`, `--storage-account '${account}' gives`)
  }
  const scheme = PROVIDER_SCHEMES[flags.provider]
  if (!scheme) throw new UsageError(`unknown --provider '${flags.provider}': expected ${PROVIDERS.replaceAll('|', ', ')}`)
  return parseDestination(`${scheme}://${flags.bucketPrefix}${artifact.envSuffix}`, `--bucket-prefix '${flags.bucketPrefix}' gives`)
}

/** The flags that go with --provider: a bucket prefix for gcp and aws, a storage account for azure. */
function checkProviderFlags(flags: CopyFlags): ProviderFlags | undefined {
  const {provider} = flags
  const bucketPrefix = flags['bucket-prefix']
  const storageAccount = flags['storage-account']
  if (provider === undefined) {
    if (bucketPrefix !== undefined) throw new UsageError('--bucket-prefix needs --provider gcp|aws')
    if (storageAccount !== undefined) throw new UsageError('--storage-account needs --provider azure')
    return undefined
  }
  if (provider === 'azure') {
    if (bucketPrefix !== undefined) throw new UsageError('--provider azure takes --storage-account NAME, not --bucket-prefix: its containers are fc-busybox, fc-kernels and fc-versions')
    if (storageAccount === undefined) throw new UsageError('--provider azure needs --storage-account NAME')
    return {provider, storageAccount}
  }
  if (storageAccount !== undefined) throw new UsageError(`--storage-account goes with --provider azure, not ${provider}`)
  if (bucketPrefix === undefined) throw new UsageError('--provider needs --bucket-prefix PREFIX')
  return {bucketPrefix, provider}
}

/**
 * Turns flags into a request. Every usage error is raised here, before any
 * connection: a missing or doubled destination, an artifact without a
 * destination, an unlistable source, a bad version or concurrency.
 */
export function resolveCopyRequest(flags: CopyFlags): CopyRequest {
  const from = parseSource(flags.from ?? defaultCopySource(), flags.from === undefined)
  const explicit = flags.to && flags.to.length > 0
  if (explicit && flags.provider !== undefined) throw new UsageError('use either --provider with --bucket-prefix (or --storage-account), or --to pairs, not both')
  if (!explicit && flags.provider === undefined) {
    throw new UsageError('no destination: pass --provider gcp|aws with --bucket-prefix PREFIX, --provider azure with --storage-account NAME, or --to ARTIFACT=LOCATION')
  }
  const provider = checkProviderFlags(flags)

  const destinations = explicit ? explicitDestinations(flags.to!) : undefined
  // With --to and no --artifact, the artifacts are the ones --to names.
  const names = flags.artifact && flags.artifact.length > 0 ? flags.artifact : destinations ? [...destinations.keys()] : ARTIFACT_NAMES
  const artifacts = [...new Set(names.map((name) => artifactNamed(name)))]
  const targets = artifacts.map((artifact): CopyTarget => {
    if (!destinations) return {artifact, to: providerDestination(provider!, artifact)}
    const to = destinations.get(artifact.name)
    if (!to) throw new UsageError(`no destination for ${artifact.name}: add --to ${artifact.name}=LOCATION`)
    return {artifact, to}
  })

  const concurrency = flags.concurrency ?? 8
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new UsageError(`invalid --concurrency ${concurrency}: use a whole number from 1 to 64`)
  }
  return {
    concurrency,
    dryRun: Boolean(flags['dry-run']),
    force: Boolean(flags.force),
    from,
    layout: parseLayout(flags.layout),
    lock: chooseLockPath({lock: flags.lock}, {discover: false}),
    targets,
    version: flags.version === undefined ? undefined : validateVersion(flags.version),
  }
}
