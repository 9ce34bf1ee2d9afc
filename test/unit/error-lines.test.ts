import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {Errors} from '@oclif/core'

import {failureLine} from '../../src/cli/render-error.js'
import {UsageError, exitCodeOf, fileSystemError} from '../../src/core/errors.js'
import {parseLocation, withoutUrlCredentials} from '../../src/core/location.js'

const errno = (code: string, syscall: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: something, ${syscall}${path ? ` '${path}'` : ''}`), {code, syscall, ...(path ? {path} : {})})

describe('one error line', () => {
  it('keeps the reason of oclif parser errors, without the header and the footer', () => {
    const required = new Errors.CLIError('The following error occurred:\n  \u001B[2mMissing required flag version\u001B[22m\nSee more help with --help')
    assert.equal(failureLine(required, 'upload'), "missing required flag --version (see 'e2b-artifacts upload --help')")
    const two = new Errors.CLIError('The following errors occurred:\n  Missing required flag version\n  --a cannot also be provided when using --b\nSee more help with --help')
    assert.equal(failureLine(two), 'missing required flag --version; --a cannot also be provided when using --b')
    const parsing = Object.assign(new Error('Parsing --concurrency \n\tExpected an integer greater than or equal to 1 but received: 0\nSee more help with --help'), {oclif: {exit: 2}})
    assert.equal(failureLine(parsing, 'copy-public-builds'), "invalid --concurrency: expected an integer greater than or equal to 1 but received: 0 (see 'e2b-artifacts copy-public-builds --help')")
    assert.equal(exitCodeOf(parsing), 2)
  })

  it('names the path, the meaning and a next step for file-system errors', () => {
    assert.equal(fileSystemError(errno('ENOSPC', 'write'), '/srv/busybox')?.message, 'cannot write /srv/busybox: no space left on device (ENOSPC): free some space there, or choose another destination')
    assert.equal(fileSystemError(errno('EROFS', 'mkdir', '/ro/x'))?.message, 'cannot create the directory /ro/x: read-only file system (EROFS): choose a destination on a writable file system')
    assert.equal(failureLine(errno('EACCES', 'open', '/etc/x')), 'cannot open /etc/x: permission denied (EACCES): fix the permissions there, or choose another destination')
    assert.equal(fileSystemError(errno('ENOENT', 'open', '/x')), undefined)
    assert.equal(fileSystemError(errno('ENOSPC', 'write')), undefined, 'no path, no line')
    assert.equal(fileSystemError(new UsageError('x'), '/x'), undefined)
  })
})

describe('credentials in locations', () => {
  it('are found in every shape, and masked from the scheme to the last @', () => {
    assert.equal(withoutUrlCredentials('gs://user:secret@bucket'), 'gs://***@bucket')
    assert.equal(withoutUrlCredentials('s3://AKIA:a/b+c@bucket/p'), 's3://***@bucket/p')
    assert.equal(withoutUrlCredentials('--to=busybox=s3://a:b@bucket'), '--to=busybox=s3://***@bucket')
    assert.equal(withoutUrlCredentials('github:user:token@owner/repo'), 'github:***@owner/repo')
    assert.equal(withoutUrlCredentials('https://example.com/bucket'), undefined)
    assert.equal(withoutUrlCredentials('/plain/dir@1'), undefined)
    assert.equal(withoutUrlCredentials('https://example.com/a%40b'), undefined)
  })

  it('make parseLocation refuse with a usage error that does not hold the secret', () => {
    for (const input of ['gs://u:secret@bucket', 'https://u:secret@example.com/b', 'http://u:secret@127.0.0.1:9/b', 's3://k:se/cret@b', 'github:u:secret@o/r', 'file://u:secret@host/dir']) {
      assert.throws(
        () => parseLocation(input),
        (error: unknown) => error instanceof UsageError && /carries credentials/.test(error.message) && !error.message.includes('secret') && !error.message.includes('se/cret'),
        input,
      )
    }
  })

  it('a malformed %-escape is a usage error', () => {
    assert.throws(() => parseLocation('https://example.com/b%ZZ'), (error: unknown) => error instanceof UsageError && /malformed %-escape/.test(error.message))
  })
})
