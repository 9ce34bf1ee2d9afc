import assert from 'node:assert/strict'
import path from 'node:path'
import {describe, it} from 'node:test'

import {CATALOG} from '../../src/core/catalog.js'
import {UsageError} from '../../src/core/errors.js'
import {artifactRoot, gcsPublicView, isListable, layoutOf, parseLayout, parseLocation} from '../../src/core/location.js'
import {isLoopbackHost, redactUrl} from '../../src/core/url-policy.js'

const usage = (input: string, pattern: RegExp): void => {
  assert.throws(() => parseLocation(input), (error: unknown) => error instanceof UsageError && pattern.test(error.message))
}

describe('parseLocation', () => {
  it('parses https buckets with and without a prefix', () => {
    const location = parseLocation('https://storage.googleapis.com/e2b-prod-public-builds/')
    assert.equal(location.scheme, 'https')
    assert.equal(location.scheme === 'https' && location.baseUrl, 'https://storage.googleapis.com/e2b-prod-public-builds')
    const nested = parseLocation('https://example.com/bucket/mirror/busybox')
    assert.deepEqual(nested.scheme === 'https' && nested.segments, ['bucket', 'mirror', 'busybox'])
  })

  it('recognises the anonymous view of a public GCS bucket, and lists only that over https', () => {
    assert.deepEqual(gcsPublicView(parseLocation('https://storage.googleapis.com/e2b-artifact-binaries')), {bucket: 'e2b-artifact-binaries', prefix: ''})
    assert.deepEqual(gcsPublicView(parseLocation('https://STORAGE.googleapis.com/b-1/mirror/x/')), {bucket: 'b-1', prefix: 'mirror/x'})
    assert.equal(gcsPublicView(parseLocation('https://storage.cloud.google.com/bucket')), undefined)
    assert.equal(gcsPublicView(parseLocation('https://example.com/bucket')), undefined)
    assert.equal(gcsPublicView(parseLocation('gs://bucket')), undefined)
    usage('https://storage.googleapis.com/Not_A_Bucket', /'Not_A_Bucket' is not a valid GCS bucket name/)
    for (const listable of ['https://storage.googleapis.com/b-1', 'gs://bucket', 's3://bucket', 'file:///srv/x']) assert.equal(isListable(parseLocation(listable)), true, listable)
    for (const unlistable of ['https://example.com/bucket', 'http://127.0.0.1:9/bucket', 'github:e2b-dev/fc-busybox']) assert.equal(isListable(parseLocation(unlistable)), false, unlistable)
  })

  it('allows plain http only to loopback hosts', () => {
    assert.equal(parseLocation('http://127.0.0.1:4443/bucket').scheme, 'http')
    assert.equal(parseLocation('http://localhost:80/bucket').scheme, 'http')
    assert.equal(parseLocation('http://[::1]:80/bucket').scheme, 'http')
    usage('http://storage.googleapis.com/bucket', /refusing plain http to non-loopback host/)
    usage('http://127.0.0.1.evil.com/bucket', /non-loopback/)
    usage('http://10.0.0.1/bucket', /non-loopback/)
  })

  it('requires a bucket and refuses queries and dot segments over http', () => {
    usage('https://example.com/', /name a bucket/)
    usage('https://example.com/b?x=1', /query strings/)
    const normalised = parseLocation('https://example.com/b/../c')
    assert.equal(normalised.scheme === 'https' && normalised.baseUrl, 'https://example.com/c')
    usage('gs://bucket/a/../b', /'\.\.' are not allowed/)
  })

  it('parses gs:// and s3:// with a prefix', () => {
    assert.deepEqual(parseLocation('gs://my-env-fc-busybox'), {bucket: 'my-env-fc-busybox', display: 'gs://my-env-fc-busybox', prefix: '', scheme: 'gs'})
    assert.deepEqual(parseLocation('s3://b-1/x/y/'), {bucket: 'b-1', display: 's3://b-1/x/y', prefix: 'x/y', scheme: 's3'})
    usage('gs://', /not a valid bucket name/)
    usage('s3://Upper', /not a valid bucket name/)
    usage('gs:bucket', /expected gs:\/\/bucket/)
  })

  it('parses file:// URLs and plain paths as absolute directories', () => {
    assert.deepEqual(parseLocation('file:///srv/builds'), {dir: '/srv/builds', display: '/srv/builds', scheme: 'file'})
    const relative = parseLocation('mirror')
    assert.equal(relative.scheme === 'file' && relative.dir, path.resolve('mirror'))
  })

  it('parses github:owner/repo and az://', () => {
    assert.deepEqual(parseLocation('github:e2b-dev/fc-busybox'), {display: 'github:e2b-dev/fc-busybox', owner: 'e2b-dev', repo: 'fc-busybox', scheme: 'github'})
    usage('github:e2b-dev', /expected github:owner\/repo/)
    usage('github:a/b/c', /expected github:owner\/repo/)
    assert.equal(parseLocation('az://acct1/fc-busybox').scheme, 'az')
  })

  it('rejects unknown schemes before connecting anywhere', () => {
    usage('ftp://host/bucket', /unsupported location scheme 'ftp:'/)
    usage('', /empty location/)
  })
})

describe('layouts', () => {
  it('treats a location named after the artifact prefix or env suffix as the artifact root', () => {
    assert.equal(artifactRoot(parseLocation('gs://prod-fc-busybox'), CATALOG.busybox), '')
    assert.equal(artifactRoot(parseLocation('s3://prod-fc-versions'), CATALOG.firecracker), '')
    assert.equal(artifactRoot(parseLocation('https://host/public/kernels'), CATALOG.kernel), '')
    assert.equal(artifactRoot(parseLocation('/srv/mirror/busybox'), CATALOG.busybox), '')
  })

  it('appends the artifact prefix otherwise', () => {
    assert.equal(artifactRoot(parseLocation('https://storage.googleapis.com/e2b-prod-public-builds'), CATALOG.busybox), 'busybox')
    assert.equal(artifactRoot(parseLocation('gs://prod-fc-busybox'), CATALOG.kernel), 'kernels')
    assert.equal(artifactRoot(parseLocation('gs://public/builds'), CATALOG.firecracker), 'firecrackers')
  })

  it('lets --layout override the name rule', () => {
    assert.equal(layoutOf(parseLocation('gs://prod-fc-busybox'), CATALOG.busybox, 'public'), 'public')
    assert.equal(artifactRoot(parseLocation('gs://anything'), CATALOG.busybox, 'env'), '')
  })
})

describe('redactUrl and loopback', () => {
  it('removes credentials and queries', () => {
    assert.equal(redactUrl('https://user:secret@host/b?X-Goog-Signature=abc'), 'https://host/b')
  })

  it('recognises loopback hosts only', () => {
    assert.ok(isLoopbackHost('127.0.0.53'))
    assert.ok(!isLoopbackHost('128.0.0.1'))
    assert.ok(!isLoopbackHost('localhost.example.com'))
  })
})

describe('parseLayout', () => {
  it('takes public or env, and nothing else', () => {
    assert.equal(parseLayout(undefined), undefined)
    assert.equal(parseLayout('env'), 'env')
    assert.equal(parseLayout('public'), 'public')
    assert.throws(() => parseLayout('flat'), (error: unknown) => error instanceof UsageError && /invalid --layout 'flat'/.test(error.message))
  })
})
