/**
 * The one place that reads the environment, and the defaults it overrides.
 * Everything else asks here, so that a reader can see every knob in one file
 * and tests can see exactly what a variable changes. Values are read at call
 * time (tests and the fast path change the environment between calls), and
 * this module imports nothing, because the no-op `fetch` loads it.
 */

type Env = Readonly<Record<string, string | undefined>>

const env = (): Env => process.env

/**
 * Upstream's public bucket (DESIGN.md): `e2b-artifact-binaries` since upstream
 * moved every consumer there (`e2b-prod-public-builds` is the legacy one and
 * still works as any location). Every default that names the public bucket
 * derives from publicBucket(), which E2B_ARTIFACTS_PUBLIC_BUCKET overrides.
 */
export const DEFAULT_PUBLIC_BUCKET = 'e2b-artifact-binaries'

/** The host that serves public GCS objects over HTTPS, and lists them through the JSON API. */
export const GCS_PUBLIC_HOST = 'storage.googleapis.com'

/** The public bucket's name: E2B_ARTIFACTS_PUBLIC_BUCKET, else DEFAULT_PUBLIC_BUCKET. */
export function publicBucket(): string {
  return env().E2B_ARTIFACTS_PUBLIC_BUCKET?.trim() || DEFAULT_PUBLIC_BUCKET
}

/** The anonymous https view of the public bucket: read and listed with no credentials. */
export function publicBucketView(): string {
  return `https://${GCS_PUBLIC_HOST}/${publicBucket()}`
}

/**
 * `fetch --from` when none is given: E2B_ARTIFACTS_PUBLIC_URL (any location
 * fetch reads: an https mirror, gs://, s3://, a directory), else the public
 * bucket's anonymous view.
 */
export function defaultFetchSource(): string {
  return env().E2B_ARTIFACTS_PUBLIC_URL?.trim() || publicBucketView()
}

/**
 * `copy-public-builds --from` when none is given: E2B_ARTIFACTS_COPY_FROM (a
 * listable location), else the public bucket's anonymous view. Not
 * E2B_ARTIFACTS_PUBLIC_URL: that one is fetch's, and may name an https mirror
 * that can be read but not listed.
 */
export function defaultCopySource(): string {
  return env().E2B_ARTIFACTS_COPY_FROM?.trim() || publicBucketView()
}

/** `upload --to` when none is given: the public bucket through gs:// (publishing needs credentials). */
export function defaultUploadDestination(): string {
  return `gs://${publicBucket()}`
}

/** Where busybox releases are built (e2b-dev/fc-busybox's tag workflow). */
export const DEFAULT_RELEASE_REPO = 'github:e2b-dev/fc-busybox'

/** A variable's name and value, so that an error about a bad value can name the variable. */
export interface NamedSetting {
  readonly name: string
  readonly value: string
}

function firstSet(...names: string[]): NamedSetting | undefined {
  for (const name of names) {
    const value = env()[name]?.trim()
    if (value) return {name, value}
  }
  return undefined
}

/** A GCS-compatible JSON API endpoint (an emulator such as fake-gcs-server). */
export function gcsEndpointSetting(): NamedSetting | undefined {
  return firstSet('E2B_ARTIFACTS_GCS_ENDPOINT', 'STORAGE_EMULATOR_HOST')
}

/** The S3 endpoint, following the AWS SDKs' own convention. */
export function s3EndpointSetting(): NamedSetting | undefined {
  return firstSet('AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL')
}

export function awsRegion(): string {
  return env().AWS_REGION || env().AWS_DEFAULT_REGION || 'us-east-1'
}

/** The AWS SDK warns on stderr about its future Node.js requirement; the tool's stderr is for its own messages. */
export function silenceAwsSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
}

/**
 * The forward proxies, as curl, gsutil and the aws CLI read them: either
 * case of each variable counts, lower case first (as curl and undici do).
 * Undefined when neither proxy variable is set, which is the common case and
 * keeps the proxy machinery from being loaded at all.
 */
export interface ProxySettings {
  /** For http:// targets. */
  readonly httpProxy?: string
  /** For https:// targets. */
  readonly httpsProxy?: string
  /** Comma- or space-separated hosts (and their subdomains) reached directly; '*' for all. */
  readonly noProxy: string
}

export function proxySettings(): ProxySettings | undefined {
  const pick = (name: string): string | undefined => (env()[name.toLowerCase()] ?? env()[name.toUpperCase()])?.trim() || undefined
  const httpProxy = pick('http_proxy')
  const httpsProxy = pick('https_proxy')
  if (!httpProxy && !httpsProxy) return undefined
  return {...(httpProxy ? {httpProxy} : {}), ...(httpsProxy ? {httpsProxy} : {}), noProxy: pick('no_proxy') ?? ''}
}

/**
 * Azure Blob's connection string (what Azurite and `az storage account
 * show-connection-string` give). A secret: it carries an account key or a SAS.
 * When unset, az:// locations use DefaultAzureCredential.
 */
export function azureConnectionString(): NamedSetting | undefined {
  return firstSet('AZURE_STORAGE_CONNECTION_STRING')
}

/**
 * How long getting an Azure token (az login, managed or workload identity) may
 * take before the tool gives up: the managed-identity probe must never hang a run.
 */
export function azureCredentialTimeoutMs(): number {
  return wholeNumber('E2B_ARTIFACTS_AZURE_CREDENTIAL_TIMEOUT_MS', 20_000, 1)
}

/** GitHub, following the Actions conventions (GHES sets both URLs). */
export interface GithubSettings {
  readonly apiUrl: NamedSetting
  readonly serverUrl: NamedSetting
  readonly token?: string
}

export function githubSettings(): GithubSettings {
  const token = env().GITHUB_TOKEN?.trim()
  return {
    apiUrl: {name: 'GITHUB_API_URL', value: env().GITHUB_API_URL || 'https://api.github.com'},
    serverUrl: {name: 'GITHUB_SERVER_URL', value: env().GITHUB_SERVER_URL || 'https://github.com'},
    ...(token ? {token} : {}),
  }
}

function wholeNumber(name: string, fallback: number, minimum: number): number {
  const raw = env()[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  return Number.isInteger(value) && value >= minimum ? value : fallback
}

/** Header, connect and stalled-body timeout of every request. */
export function requestTimeoutMs(): number {
  return wholeNumber('E2B_ARTIFACTS_TIMEOUT_MS', 30_000, 1)
}

/**
 * The minimum transfer speed (curl's --speed-limit and --speed-time): a body
 * that moves fewer than `bytesPerSecond` per second, on average over
 * `seconds`, is aborted and retried. A limit of 0 turns the rule off.
 */
export interface SpeedLimit {
  readonly bytesPerSecond: number
  readonly seconds: number
}

export function speedLimit(): SpeedLimit {
  return {
    bytesPerSecond: wholeNumber('E2B_ARTIFACTS_SPEED_LIMIT', 1024, 0),
    seconds: wholeNumber('E2B_ARTIFACTS_SPEED_TIME', 30, 1),
  }
}

export interface RetryPolicy {
  /** Total attempts, including the first. */
  readonly tries: number
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

/** DESIGN.md's bounded exponential backoff; tests shorten the delays. */
export function retryPolicy(): RetryPolicy {
  return {
    baseDelayMs: wholeNumber('E2B_ARTIFACTS_RETRY_BASE_MS', 250, 0),
    maxDelayMs: wholeNumber('E2B_ARTIFACTS_RETRY_MAX_MS', 8000, 0),
    tries: Math.max(1, wholeNumber('E2B_ARTIFACTS_RETRIES', 4, 0)),
  }
}

/**
 * Which sandboxes upload's run check may use, in order (E2B_ARTIFACTS_SANDBOX,
 * comma-separated: bwrap, unshare; `none` for none, which skips the run
 * check). Undefined: the built-in order. Names are checked by their user.
 */
export function sandboxSetting(): NamedSetting | undefined {
  return firstSet('E2B_ARTIFACTS_SANDBOX')
}

/**
 * E2B_ARTIFACTS_LOCK: the lock file to use, as `--lock PATH` names it. Without
 * either, `fetch` and `lock` look for e2b-artifacts.lock from the working
 * directory up; `verify` and `copy-public-builds` use none.
 */
export function lockFileSetting(): NamedSetting | undefined {
  return firstSet('E2B_ARTIFACTS_LOCK')
}

/** E2B_ARTIFACTS_FAST_PATH=0 sends `fetch` through oclif (tests cover both paths). */
export function fastPathEnabled(): boolean {
  return env().E2B_ARTIFACTS_FAST_PATH !== '0'
}

/** Stack traces on errors, as with --verbose. */
export function debugEnabled(): boolean {
  return Boolean(env().DEBUG)
}

/** What decides whether a spinner may run: CI, make -j and dumb terminals never get one. */
export interface TerminalSettings {
  readonly ci: boolean
  readonly parallelMake: boolean
  readonly dumbTerminal: boolean
}

export function terminalSettings(variables: Env = env()): TerminalSettings {
  const ci = variables.CI
  const makeFlags = variables.MAKEFLAGS ?? ''
  return {
    ci: ci !== undefined && ci !== '' && ci !== 'false',
    dumbTerminal: variables.TERM === 'dumb',
    parallelMake: makeFlags.includes('--jobserver') || /^[^-\s]*j/.test(makeFlags) || /(^|\s)-j/.test(makeFlags),
  }
}

/** Variables whose values must never be printed. */
const SECRET_VARIABLES = [
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_STORAGE_KEY',
  'AZURE_STORAGE_CONNECTION_STRING',
  'AZURE_STORAGE_SAS_TOKEN',
]

/** Parts of a connection string that are secrets on their own, should a message echo one without the rest. */
const CONNECTION_STRING_SECRETS = /(?:^|;)\s*(?:AccountKey|SharedAccessSignature)\s*=([^;]+)/gi

/** The values of secret variables that are set (long enough to redact without mangling ordinary text). */
export function secretValues(): string[] {
  const values = SECRET_VARIABLES.map((name) => env()[name])
  const connectionString = env().AZURE_STORAGE_CONNECTION_STRING ?? ''
  if (connectionString !== '') for (const match of connectionString.matchAll(CONNECTION_STRING_SECRETS)) values.push(match[1]?.trim())
  return values.filter((value): value is string => value !== undefined && value.length >= 4)
}

/**
 * Test-only (the fault matrix): E2B_ARTIFACTS_TEST_PAUSE_AT names a point
 * where the process stops and waits, and E2B_ARTIFACTS_TEST_PAUSE_FILE the
 * marker file it writes there; see core/test-pause.ts. Unset in real use.
 */
export function testPausePoint(): {readonly point: string; readonly marker: string} | undefined {
  const point = env().E2B_ARTIFACTS_TEST_PAUSE_AT
  const marker = env().E2B_ARTIFACTS_TEST_PAUSE_FILE
  return point && marker ? {marker, point} : undefined
}
