import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {describe, it} from 'node:test'

import {ExitCode, exitCodeOf, ConflictError, IntegrityError, NotFoundError, OperationalError, TransientError, UsageError} from '../../src/core/errors.js'
import {FAST_FETCH_OPTIONS} from '../../src/cli/fetch-args.js'
import {redact} from '../../src/cli/redact.js'
import {formatBytes, spinnerAllowed} from '../../src/cli/reporter.js'
import {terminalSettings} from '../../src/core/config.js'
import {PROJECT_ROOT} from '../support/cli.js'

describe('exit codes', () => {
  it('maps every error class to its documented code in one place', () => {
    assert.equal(exitCodeOf(new OperationalError('x')), 1)
    assert.equal(exitCodeOf(new TransientError('x')), 1)
    assert.equal(exitCodeOf(new UsageError('x')), 2)
    assert.equal(exitCodeOf(new IntegrityError('x')), 3)
    assert.equal(exitCodeOf(new NotFoundError('x')), 4)
    assert.equal(exitCodeOf(new ConflictError('x')), 5)
    assert.equal(exitCodeOf(Object.assign(new Error('Nonexistent flag'), {oclif: {exit: 2}})), ExitCode.usage)
    assert.equal(exitCodeOf(new Error('boom')), 1)
  })
})

describe('redact', () => {
  it('hides token values, URL credentials and signed query strings', () => {
    process.env.GITHUB_TOKEN = 'ghp_sentinel_123456'
    try {
      const text = redact('GET https://u:pw@api.github.com/x?token=abc failed; Authorization: Bearer ghp_sentinel_123456 and authorization: token zzz')
      assert.ok(!text.includes('ghp_sentinel_123456'))
      assert.ok(!text.includes('pw@'))
      assert.ok(!text.includes('token=abc'))
      assert.ok(!text.includes('zzz'))
      assert.match(text, /GET https:\/\/api\.github\.com\/x failed/)
    } finally {
      delete process.env.GITHUB_TOKEN
    }
  })

  it('hides each kind alone, in any case, and leaves a line without any of them as it is', () => {
    assert.equal(redact('from HTTPS://user:pw@host/b'), 'from HTTPS://host/b')
    assert.equal(redact('from s3://bucket/key?X-Amz-Signature=abc ok'), 'from s3://bucket/key ok')
    assert.equal(redact('AUTHORIZATION: BASIC dXNlcjpwdw== sent'), 'AUTHORIZATION: BASIC *** sent')
    assert.equal(redact('AuThOrIzAtIoN:Token zzz'), 'AuThOrIzAtIoN:Token ***')
    const line = 'busybox 1.36.1/amd64 is up to date at .busybox/1.36.1/amd64/busybox (sha256 3d9f2889d678…)'
    assert.equal(redact(line), line)
    process.env.AZURE_STORAGE_CONNECTION_STRING = 'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=c2VjcmV0a2V5;EndpointSuffix=core.windows.net'
    try {
      assert.equal(redact('key c2VjcmV0a2V5 in a message'), 'key *** in a message')
    } finally {
      delete process.env.AZURE_STORAGE_CONNECTION_STRING
    }
  })
})

describe('spinnerAllowed', () => {
  const tty = {json: false, quiet: false}
  it('shows a spinner only to a person at a terminal', () => {
    const terminal = (env: Record<string, string>): ReturnType<typeof terminalSettings> => terminalSettings(env)
    assert.equal(spinnerAllowed(tty, terminal({}), true, 80), true)
    assert.equal(spinnerAllowed(tty, terminal({}), false, 80), false)
    assert.equal(spinnerAllowed(tty, terminal({CI: 'true'}), true, 80), false)
    assert.equal(spinnerAllowed(tty, terminal({CI: 'false'}), true, 80), true)
    assert.equal(spinnerAllowed(tty, terminal({MAKEFLAGS: ' -j4 --jobserver-auth=3,4'}), true, 80), false)
    assert.equal(spinnerAllowed(tty, terminal({MAKEFLAGS: 'j'}), true, 80), false)
    assert.equal(spinnerAllowed(tty, terminal({MAKEFLAGS: 's'}), true, 80), true)
    assert.equal(spinnerAllowed(tty, terminal({TERM: 'dumb'}), true, 80), false)
    assert.equal(spinnerAllowed({json: true, quiet: false}, terminal({}), true, 80), false)
    assert.equal(spinnerAllowed({json: false, quiet: true}, terminal({}), true, 80), false)
  })
})

describe('formatBytes', () => {
  it('uses binary units', () => {
    assert.equal(formatBytes(512), '512 B')
    assert.equal(formatBytes(1982256), '1.9 MiB')
  })
})

describe('fast path', () => {
  it('knows exactly the flags the oclif fetch command has', async () => {
    const manifest = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {flags: Record<string, {type: string; char?: string}>}>
    }
    const flags = manifest.commands.fetch?.flags ?? {}
    assert.deepEqual(Object.keys(FAST_FETCH_OPTIONS).sort(), Object.keys(flags).sort())
    for (const [name, option] of Object.entries(FAST_FETCH_OPTIONS)) {
      assert.equal(option.type === 'boolean' ? 'boolean' : 'option', flags[name]?.type, `type of --${name}`)
      assert.equal('short' in option ? option.short : undefined, flags[name]?.char, `short form of --${name}`)
    }
  })
})
