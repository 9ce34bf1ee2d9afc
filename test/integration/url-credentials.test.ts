import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {runCli} from '../support/cli.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

/**
 * A location with credentials in its URL is refused with exit 2, and the
 * secret is printed nowhere: not in the error, not in a stack, not in oclif's
 * DEBUG=* output (which prints argv), not in --json.
 */
const SENTINEL = 'S3NT1NEL-d0c7e1'

let server: ArtifactServer
let cwd: string

before(async () => {
  server = await startArtifactServer()
  cwd = await tempDir('url-credentials')
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

const locations = (): string[] => [
  `gs://user:${SENTINEL}@bucket`,
  `s3://${SENTINEL}@bucket/prefix`,
  // An AWS secret key may hold a '/', which breaks URL parsing before any userinfo check could run.
  `s3://AKIAEXAMPLE:${SENTINEL}/x+y@bucket`,
  `https://user:${SENTINEL}@example.com/bucket`,
  `${server.url.replace('://', `://user:${SENTINEL}@`)}/public-builds`,
  `github:user:${SENTINEL}@e2b-dev/fc-busybox`,
  `az://user:${SENTINEL}@account/container`,
  `file://user:${SENTINEL}@localhost/srv`,
]

/** Every location flag of every command, each in its `--flag value` and `--flag=value` forms. */
function invocations(location: string): string[][] {
  const uses: string[][] = [
    ['fetch', '--from', location],
    ['upload', '--version', '1.36.1', '--from', location],
    ['upload', '--version', '1.36.1', '--from', cwd, '--to', location],
    ['verify', '--at', location],
    ['verify', '--version', '1.36.1', '--against', location, '--against', cwd],
    ['copy-public-builds', '--from', location, '--to', `busybox=${cwd}`],
    ['copy-public-builds', '--from', cwd, '--to', `busybox=${location}`],
  ]
  const joined = uses.map((args) => {
    const index = args.findIndex((arg) => arg.includes(SENTINEL))
    return [...args.slice(0, index - 1), `${args[index - 1]}=${args[index]}`, ...args.slice(index + 1)]
  })
  return [...uses, ...joined]
}

function assertRefused(result: {code: number | null; stdout: string; stderr: string}, what: string): void {
  assert.equal(result.code, 2, `${what}: ${result.stderr}`)
  assert.ok(!result.stderr.includes(SENTINEL), `${what}: the secret is not on stderr:\n${result.stderr}`)
  assert.ok(!result.stdout.includes(SENTINEL), `${what}: the secret is not on stdout`)
  assert.match(result.stderr.split('\n')[0]!, /^e2b-artifacts: error: location '.*' carries credentials \(user:password@\): remove them; /, what)
}

describe('URL credentials', () => {
  it('are refused in every location flag of every command, and never printed, even with DEBUG=*', async () => {
    // fetch has two ways in (the fast path and oclif); the other commands only oclif.
    const runs = locations().flatMap((location) =>
      invocations(location).flatMap((args) => (args[0] === 'fetch' ? [{DEBUG: '*'}, {DEBUG: '*', E2B_ARTIFACTS_FAST_PATH: '0'}] : [{DEBUG: '*'}]).map((env) => ({args, env}))),
    )
    const pending = [...runs]
    await Promise.all(
      Array.from({length: 3}, async () => {
        for (let run = pending.shift(); run; run = pending.shift()) assertRefused(await runCli(run.args, {cwd, env: run.env, timeoutMs: 20_000}), run.args.join(' '))
      }),
    )
    assert.deepEqual(server.requests, [], 'no request was made, with or without the credentials')
  })

  it('are refused in the one JSON document under --json', async () => {
    const result = await runCli(['fetch', '--json', '--from', `gs://user:${SENTINEL}@bucket`], {cwd, timeoutMs: 20_000})
    assertRefused(result, 'fetch --json')
    const document = JSON.parse(result.stdout) as {error: {exitCode: number; kind: string; message: string}}
    assert.equal(document.error.exitCode, 2)
    assert.equal(document.error.kind, 'usage')
    assert.match(document.error.message, /carries credentials/)
  })

  it('are refused in E2B_ARTIFACTS_PUBLIC_URL too', async () => {
    const result = await runCli(['fetch'], {cwd, env: {DEBUG: '*', E2B_ARTIFACTS_PUBLIC_URL: `https://user:${SENTINEL}@example.com/bucket`}, timeoutMs: 20_000})
    assertRefused(result, 'E2B_ARTIFACTS_PUBLIC_URL')
  })
})
