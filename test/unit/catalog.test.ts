import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  CATALOG,
  DEFAULT_BUSYBOX_VERSION,
  artifactNamed,
  hostArch,
  normalizeArch,
  normalizeArches,
  resolveVersion,
  validateVersion,
} from '../../src/core/catalog.js'
import {ExitCode, UsageError} from '../../src/core/errors.js'
import {binaryKey, legacyFlatKey, parseArtifactKey, sidecarKey} from '../../src/core/keys.js'

const usage = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (error: unknown) => error instanceof UsageError && error.exitCode === ExitCode.usage && pattern.test(error.message))
}

describe('catalog', () => {
  it('knows the three artifacts with their files, prefixes and env suffixes', () => {
    assert.deepEqual(
      Object.values(CATALOG).map((a) => [a.name, a.file, a.publicPrefix, a.envSuffix, a.sidecarRequired, a.elf]),
      [
        ['busybox', 'busybox', 'busybox', 'fc-busybox', true, true],
        ['kernel', 'vmlinux.bin', 'kernels', 'fc-kernels', false, false],
        ['firecracker', 'firecracker', 'firecrackers', 'fc-versions', false, true],
      ],
    )
  })

  it('gives busybox the one default version and the others none', () => {
    assert.equal(resolveVersion(CATALOG.busybox, undefined), DEFAULT_BUSYBOX_VERSION)
    assert.equal(DEFAULT_BUSYBOX_VERSION, '1.36.1')
    usage(() => resolveVersion(CATALOG.kernel, undefined), /kernel has no default version/)
  })

  it('rejects unknown artifacts, including prototype keys', () => {
    assert.equal(artifactNamed('kernel').file, 'vmlinux.bin')
    usage(() => artifactNamed('toString'), /unknown artifact 'toString'/)
    usage(() => artifactNamed('kernels'), /expected one of busybox, kernel, firecracker/)
  })

  it('normalises arch aliases and rejects others', () => {
    assert.equal(normalizeArch('x86_64'), 'amd64')
    assert.equal(normalizeArch('aarch64'), 'arm64')
    assert.equal(normalizeArch('amd64'), 'amd64')
    usage(() => normalizeArch('riscv64'), /unknown arch 'riscv64'/)
    usage(() => normalizeArch('AMD64'), /unknown arch/)
    usage(() => normalizeArch('constructor'), /unknown arch/)
    assert.ok(['amd64', 'arm64'].includes(hostArch()))
  })

  it('accepts release-style versions', () => {
    for (const version of ['1.36.1', 'v1.36.1-20260401', '6.1.102', '1.10.1_rc+build.7', 'a'.repeat(64)]) {
      assert.equal(validateVersion(version), version)
    }
  })

  it('rejects versions that could escape a path or are empty', () => {
    for (const version of ['', '..', '../x', '1.0/..', 'a/b', '.hidden', '-rf', '1..2', 'a'.repeat(65), '1.0 ', 'x\n']) {
      usage(() => validateVersion(version), /invalid version/)
    }
  })

  it('builds keys as {version}/{arch}/{file} with a .sha256 sidecar', () => {
    const key = binaryKey(CATALOG.kernel, '6.1.102', 'arm64')
    assert.equal(key, '6.1.102/arm64/vmlinux.bin')
    assert.equal(sidecarKey(key), '6.1.102/arm64/vmlinux.bin.sha256')
  })

  it('parses keys back into version, arch and sidecar, including the legacy flat layout', () => {
    assert.deepEqual(parseArtifactKey(CATALOG.busybox, '1.36.1/arm64/busybox.sha256'), {arch: 'arm64', binaryKey: '1.36.1/arm64/busybox', file: 'busybox', sidecar: true, version: '1.36.1'})
    assert.deepEqual(parseArtifactKey(CATALOG.kernel, 'vmlinux-6.1.102/vmlinux.bin'), {binaryKey: 'vmlinux-6.1.102/vmlinux.bin', file: 'vmlinux.bin', sidecar: false, version: 'vmlinux-6.1.102'})
    assert.equal(parseArtifactKey(CATALOG.busybox, '1.36.1/riscv64/busybox'), undefined)
    assert.equal(parseArtifactKey(CATALOG.busybox, '1.36.1/amd64/README'), undefined)
  })

  it("parses upstream's companion files as slots of their own, never as unexpected", () => {
    assert.deepEqual(parseArtifactKey(CATALOG.kernel, 'vmlinux-6.1.102/amd64/vmlinux.debug'), {arch: 'amd64', binaryKey: 'vmlinux-6.1.102/amd64/vmlinux.debug', file: 'vmlinux.debug', sidecar: false, version: 'vmlinux-6.1.102'})
    assert.deepEqual(parseArtifactKey(CATALOG.firecracker, 'v1.12.1_210cbac/firecracker-debug.debug.sha256'), {binaryKey: 'v1.12.1_210cbac/firecracker-debug.debug', file: 'firecracker-debug.debug', sidecar: true, version: 'v1.12.1_210cbac'})
    assert.equal(parseArtifactKey(CATALOG.firecracker, 'v1.12.1_210cbac/amd64/firecracker-debug')?.file, 'firecracker-debug')
    assert.equal(parseArtifactKey(CATALOG.busybox, '1.36.1/amd64/vmlinux.debug'), undefined, 'companions belong to their own artifact')
  })

  it('has a legacy flat key only for kernels and Firecracker builds', () => {
    assert.equal(legacyFlatKey(CATALOG.kernel, 'vmlinux-6.1.102'), 'vmlinux-6.1.102/vmlinux.bin')
    assert.equal(legacyFlatKey(CATALOG.firecracker, 'v1.12.1_210cbac'), 'v1.12.1_210cbac/firecracker')
    assert.equal(legacyFlatKey(CATALOG.busybox, '1.36.1'), undefined)
  })

  it('normalises a repeatable --arch to distinct arches in catalog order, both by default', () => {
    assert.deepEqual(normalizeArches(undefined), ['amd64', 'arm64'])
    assert.deepEqual(normalizeArches(['aarch64', 'x86_64,arm64']), ['amd64', 'arm64'])
    assert.deepEqual(normalizeArches(['arm64']), ['arm64'])
    usage(() => normalizeArches(['riscv64']), /unknown arch 'riscv64'/)
  })
})
