import assert from 'node:assert/strict'
import path from 'node:path'
import {afterEach, beforeEach, describe, it} from 'node:test'

import {hostArch} from '../../src/core/catalog.js'
import {DEFAULT_PUBLIC_BUCKET} from '../../src/core/config.js'
import {ExitCode, UsageError} from '../../src/core/errors.js'
import {resolveCopyRequest} from '../../src/services/copy/request.js'
import {resolveFetchRequest} from '../../src/services/fetch/request.js'
import {resolveUploadRequest} from '../../src/services/upload/request.js'
import {resolveVerifyRequest} from '../../src/services/verify/request.js'

const HEX = 'ab'.repeat(32)

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof UsageError && error.exitCode === ExitCode.usage && pattern.test(error.message))
}

/** The request builders read these through core/config; each test starts without them. */
const DEFAULTS_VARIABLES = ['E2B_ARTIFACTS_PUBLIC_URL', 'E2B_ARTIFACTS_COPY_FROM', 'E2B_ARTIFACTS_PUBLIC_BUCKET'] as const
let saved: Record<string, string | undefined> = {}
beforeEach(() => {
  saved = Object.fromEntries(DEFAULTS_VARIABLES.map((name) => [name, process.env[name]]))
  for (const name of DEFAULTS_VARIABLES) Reflect.deleteProperty(process.env, name)
})
afterEach(() => {
  for (const name of DEFAULTS_VARIABLES) {
    if (saved[name] === undefined) Reflect.deleteProperty(process.env, name)
    else process.env[name] = saved[name]
  }
})

describe('the public bucket', () => {
  it("is upstream's e2b-artifact-binaries, named in one place, and every default derives from it", () => {
    assert.equal(DEFAULT_PUBLIC_BUCKET, 'e2b-artifact-binaries')
    assert.equal(resolveFetchRequest({}).from.display, 'https://storage.googleapis.com/e2b-artifact-binaries')
    assert.equal(resolveUploadRequest({version: '1.36.1'}).to.display, 'gs://e2b-artifact-binaries')
    assert.equal(resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp'}).from.display, 'https://storage.googleapis.com/e2b-artifact-binaries')
  })

  it('is overridden by E2B_ARTIFACTS_PUBLIC_BUCKET for fetch, upload and copy-public-builds alike', () => {
    process.env.E2B_ARTIFACTS_PUBLIC_BUCKET = 'e2b-prod-public-builds'
    assert.equal(resolveFetchRequest({}).from.display, 'https://storage.googleapis.com/e2b-prod-public-builds')
    assert.equal(resolveUploadRequest({version: '1.36.1'}).to.display, 'gs://e2b-prod-public-builds')
    assert.equal(resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp'}).from.display, 'https://storage.googleapis.com/e2b-prod-public-builds')
  })

  it('gives fetch and copy-public-builds a variable each, so an https mirror for fetch never breaks copy', () => {
    process.env.E2B_ARTIFACTS_PUBLIC_URL = 'https://mirror.example.com/public-builds'
    assert.equal(resolveFetchRequest({}).from.display, 'https://mirror.example.com/public-builds')
    assert.equal(resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp'}).from.display, 'https://storage.googleapis.com/e2b-artifact-binaries')
    process.env.E2B_ARTIFACTS_COPY_FROM = 's3://mirror-public-builds'
    assert.equal(resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp'}).from.display, 's3://mirror-public-builds')
    process.env.E2B_ARTIFACTS_COPY_FROM = 'https://mirror.example.com/public-builds'
    usage(() => resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp'}), /cannot list E2B_ARTIFACTS_COPY_FROM=https:\/\/mirror\.example\.com\/public-builds/)
  })
})

describe('resolveFetchRequest', () => {
  it('fills in the documented defaults', () => {
    const request = resolveFetchRequest({})
    assert.equal(request.artifact.name, 'busybox')
    assert.equal(request.version, '1.36.1')
    assert.equal(request.arch, hostArch())
    assert.equal(request.from.display, `https://storage.googleapis.com/${DEFAULT_PUBLIC_BUCKET}`)
    assert.equal(request.outDisplay, path.join('.busybox', '1.36.1', hostArch(), 'busybox'))
    assert.equal(request.out, path.resolve(request.outDisplay))
    assert.equal(request.force, false)
    assert.equal(request.pin, undefined)
  })

  it('takes the default source from E2B_ARTIFACTS_PUBLIC_URL', () => {
    process.env.E2B_ARTIFACTS_PUBLIC_URL = 'file:///srv/mirror'
    assert.equal(resolveFetchRequest({}).from.display, '/srv/mirror')
  })

  it('normalises the arch, the pin and the layout', () => {
    const request = resolveFetchRequest({arch: 'aarch64', artifact: 'kernel', layout: 'env', out: 'k/vmlinux.bin', sha256: `SHA256:${HEX.toUpperCase()}`, version: 'vmlinux-6.1.102'})
    assert.equal(request.arch, 'arm64')
    assert.equal(request.pin, HEX)
    assert.equal(request.layout, 'env')
    assert.equal(request.outDisplay, 'k/vmlinux.bin')
  })

  it('refuses bad input before any I/O', () => {
    usage(() => resolveFetchRequest({artifact: 'kernel'}), /kernel has no default version: pass --version/)
    usage(() => resolveFetchRequest({from: 'github:e2b-dev/fc-busybox'}), /not github:/)
    usage(() => resolveFetchRequest({out: ' '}), /--out must not be empty/)
    usage(() => resolveFetchRequest({out: 'dir/'}), /names a directory/)
    usage(() => resolveFetchRequest({sha256: 'abc'}), /--sha256 is not a sha256 digest/)
    usage(() => resolveFetchRequest({layout: 'flat'}), /invalid --layout/)
  })
})

describe('resolveUploadRequest', () => {
  it('defaults to both arches, the release repo, tag v{version} and the public bucket', () => {
    const request = resolveUploadRequest({version: '1.36.1'})
    assert.deepEqual(request.arches, ['amd64', 'arm64'])
    assert.equal(request.from.display, 'github:e2b-dev/fc-busybox')
    assert.equal(request.tag, 'v1.36.1')
    assert.equal(request.to.display, `gs://${DEFAULT_PUBLIC_BUCKET}`)
    assert.equal(request.dryRun, false)
  })

  it('refuses what it cannot publish', () => {
    usage(() => resolveUploadRequest({}), /pass --version/)
    usage(() => resolveUploadRequest({artifact: 'kernel', version: '6.1'}), /pass --from for kernel/)
    usage(() => resolveUploadRequest({from: 's3://bucket', version: '1.36.1'}), /upload reads from github:owner\/repo or a local directory/)
    usage(() => resolveUploadRequest({from: '/srv/builds', tag: 'v1', version: '1.36.1'}), /--tag applies only to a github: source/)
    usage(() => resolveUploadRequest({tag: 'v1..2', version: '1.36.1'}), /invalid --tag/)
    usage(() => resolveUploadRequest({to: 'https://example.com/bucket', version: '1.36.1'}), /is read-only/)
  })
})

describe('resolveCopyRequest', () => {
  it('with no --from, reads the public bucket through its anonymous https view', () => {
    const request = resolveCopyRequest({'bucket-prefix': 'e2b-staging-', provider: 'gcp'})
    assert.equal(request.from.display, `https://storage.googleapis.com/${DEFAULT_PUBLIC_BUCKET}`)
    assert.deepEqual(
      request.targets.map((target) => [target.artifact.name, target.to.display]),
      [
        ['busybox', 'gs://e2b-staging-fc-busybox'],
        ['kernel', 'gs://e2b-staging-fc-kernels'],
        ['firecracker', 'gs://e2b-staging-fc-versions'],
      ],
    )
    assert.equal(request.concurrency, 8)
  })

  it('takes --layout for the destinations', () => {
    assert.equal(resolveCopyRequest({layout: 'env', to: ['busybox=/srv/x']}).layout, 'env')
    assert.equal(resolveCopyRequest({to: ['busybox=/srv/x']}).layout, undefined)
  })

  it('maps --to pairs, and copies only the artifacts they name', () => {
    const request = resolveCopyRequest({from: 'file:///srv/public', to: ['busybox=s3://env-fc-busybox'], version: '1.36.1'})
    assert.deepEqual(request.targets.map((target) => [target.artifact.name, target.to.display]), [['busybox', 's3://env-fc-busybox']])
    assert.equal(request.version, '1.36.1')
  })

  it('raises every usage error before any connection', () => {
    usage(() => resolveCopyRequest({}), /no destination/)
    usage(() => resolveCopyRequest({provider: 'gcp'}), /--provider needs --bucket-prefix/)
    usage(() => resolveCopyRequest({'bucket-prefix': 'p-', to: ['busybox=gs://b-fc-busybox']}), /--bucket-prefix needs --provider/)
    usage(() => resolveCopyRequest({'bucket-prefix': 'p-', provider: 'gcp', to: ['busybox=gs://b-fc-busybox']}), /not both/)
    usage(() => resolveCopyRequest({to: ['busybox']}), /expected ARTIFACT=LOCATION/)
    usage(() => resolveCopyRequest({to: ['busybox=gs://aa-fc-busybox', 'busybox=gs://bb-fc-busybox']}), /names busybox twice/)
    usage(() => resolveCopyRequest({artifact: ['kernel'], to: ['busybox=gs://aa-fc-busybox']}), /no destination for kernel/)
    usage(() => resolveCopyRequest({concurrency: 0, 'bucket-prefix': 'p-', provider: 'gcp'}), /invalid --concurrency 0/)
    usage(() => resolveCopyRequest({from: 'github:o/r', 'bucket-prefix': 'p-', provider: 'gcp'}), /--from must be/)
    usage(() => resolveCopyRequest({from: 'https://example.com/bucket', 'bucket-prefix': 'p-', provider: 'gcp'}), /cannot list https:\/\/example\.com\/bucket: only the anonymous view/)
    usage(() => resolveCopyRequest({'bucket-prefix': 'p-', layout: 'flat', provider: 'gcp'}), /invalid --layout/)
  })
})

describe('resolveVerifyRequest', () => {
  it('chooses exactly one mode', () => {
    usage(() => resolveVerifyRequest({}), /choose one of --file, --at or --against/)
    usage(() => resolveVerifyRequest({at: 'gs://bucket-x', file: 'f'}), /choose one of/)
  })

  it('builds each mode with its scope', () => {
    const file = resolveVerifyRequest({arch: 'x86_64', file: 'f', sha256: HEX})
    assert.equal(file.mode, 'file')
    assert.equal(file.arch, 'amd64')
    assert.equal(file.mode === 'file' && file.pin, HEX)
    const at = resolveVerifyRequest({at: 'gs://prod-fc-busybox', deep: true, version: '1.36.1'})
    assert.equal(at.mode === 'at' && at.location.display, 'gs://prod-fc-busybox')
    assert.equal(at.mode === 'at' && at.deep, true)
    const against = resolveVerifyRequest({against: ['github:e2b-dev/fc-busybox', 's3://prod-fc-busybox'], tag: 'v1'})
    assert.deepEqual(against.mode === 'against' && against.locations.map((location) => location.display), ['github:e2b-dev/fc-busybox', 's3://prod-fc-busybox'])
  })

  it('refuses a bad pin, version or concurrency as usage errors', () => {
    usage(() => resolveVerifyRequest({file: 'f', sha256: 'xyz'}), /--sha256 is not a sha256 digest/)
    usage(() => resolveVerifyRequest({at: 'gs://bucket-x', version: '../x'}), /invalid version/)
    usage(() => resolveVerifyRequest({at: 'gs://bucket-x', concurrency: 0}), /invalid --concurrency/)
  })

  it('takes --metadata-only with --at, and never together with --deep', () => {
    const cheap = resolveVerifyRequest({at: 'gs://bucket-x', 'metadata-only': true})
    assert.equal(cheap.mode === 'at' && cheap.metadataOnly, true)
    assert.equal(cheap.mode === 'at' && cheap.deep, false)
    const plain = resolveVerifyRequest({at: 'gs://bucket-x'})
    assert.equal(plain.mode === 'at' && plain.metadataOnly, false)
    usage(() => resolveVerifyRequest({at: 'gs://bucket-x', deep: true, 'metadata-only': true}), /choose one of --deep .* or --metadata-only/)
  })
})
