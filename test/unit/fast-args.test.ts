import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseArgs} from 'node:util'

import {parseFastArgs} from '../../src/cli/fast-args.js'
import {FAST_FETCH_OPTIONS} from '../../src/cli/fetch-args.js'

const parse = (...args: string[]): ReturnType<typeof parseFastArgs> => parseFastArgs(args, FAST_FETCH_OPTIONS)

/** What Node's strict parser makes of the same command line, or undefined where it throws. */
function nodeParse(args: string[]): {positionals: string[]; values: Record<string, unknown>} | undefined {
  try {
    const {positionals, values} = parseArgs({allowPositionals: true, args, options: FAST_FETCH_OPTIONS, strict: true})
    return {positionals, values: {...values}}
  } catch {
    return undefined
  }
}

describe('parseFastArgs: the fast path\'s command line', () => {
  it('takes the forms a Makefile writes', () => {
    assert.deepEqual(parse('busybox', '--version', '1.36.1', '--arch=arm64', '--out', '.busybox/b', '-q', '--locked'), {
      positionals: ['busybox'],
      values: {arch: 'arm64', locked: true, out: '.busybox/b', quiet: true, version: '1.36.1'},
    })
    assert.deepEqual(parse(), {positionals: [], values: {}})
    assert.deepEqual(parse('--out=-odd-name'), {positionals: [], values: {out: '-odd-name'}})
  })

  it('leaves everything else to oclif: unknown, repeated or malformed flags, help, --', () => {
    for (const args of [
      ['--help'],
      ['-h'],
      ['--unknown'],
      ['--version'],
      ['--out', '--quiet'],
      ['--quiet=true'],
      ['--quiet', '--quiet'],
      ['--arch', 'amd64', '--arch', 'arm64'],
      ['-qv'],
      ['--', 'busybox'],
      ['--constructor'],
      ['--toString', 'x'],
    ]) {
      assert.equal(parse(...args), undefined, args.join(' '))
    }
  })

  it('agrees with util.parseArgs wherever it takes a command line', () => {
    const samples = [
      ['busybox'],
      ['kernel', '--version', 'vmlinux-6.1.158', '--arch', 'amd64'],
      ['--from=https://example.test/b', '--json', '--force'],
      ['-q', 'firecracker', '--sha256', 'a'.repeat(64), '--allow-unverified'],
      ['--lock', 'x.lock', '--no-lock', '--verbose', '--layout', 'legacy-flat'],
      ['-', '--out', '-'],
      ['--out', '--x'],
      ['--json=1'],
    ]
    for (const args of samples) {
      const fast = parse(...args)
      if (fast) assert.deepEqual({positionals: [...fast.positionals], values: {...fast.values}}, nodeParse(args), args.join(' '))
      else assert.equal(nodeParse(args), undefined, `only Node takes: ${args.join(' ')}`)
    }
  })
})
