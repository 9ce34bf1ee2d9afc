import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'

import {IntegrityError} from '../../src/core/errors.js'
import {ELF_MACHINE, bufferReader, checkElfArch, checkStatic, parseElfHeader, streamContains, withFileReader} from '../../src/integrity/elf.js'
import {buildElf} from '../support/elf-builder.js'
import {busyboxBytes, busyboxFixture} from '../support/fixtures.js'

const rejects = async (promise: Promise<unknown>, pattern: RegExp): Promise<void> => {
  await assert.rejects(promise, (error: unknown) => error instanceof IntegrityError && pattern.test(error.message))
}

describe('ELF header', () => {
  it('reads the machine of 64- and 32-bit, little- and big-endian images', () => {
    assert.equal(parseElfHeader(buildElf({machine: 62}), 'x').machine, 62)
    assert.equal(parseElfHeader(buildElf({bigEndian: true, machine: 183}), 'x').machine, 183)
    assert.equal(parseElfHeader(buildElf({bits: 32, machine: 3}), 'x').bits, 32)
  })

  it('matches the machine against the arch', () => {
    assert.equal(checkElfArch(buildElf({machine: ELF_MACHINE.amd64}), 'amd64', 'b').machine, 62)
    assert.throws(() => checkElfArch(buildElf({machine: 183}), 'amd64', 'busybox'), /busybox is built for aarch64, not amd64/)
    assert.throws(() => checkElfArch(buildElf({bits: 32, machine: 40}), 'arm64', 'b'), /built for arm \(32-bit\), not arm64/)
  })

  it('rejects files that are not ELF', () => {
    assert.throws(() => parseElfHeader(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(64)), 'script'), (e: unknown) => e instanceof IntegrityError && /script is not an ELF binary/.test(e.message))
    assert.throws(() => parseElfHeader(Buffer.alloc(10), 'tiny'), /not an ELF binary/)
  })

  it('classifies the real Debian busybox binaries', async () => {
    const amd64 = await busyboxBytes('amd64')
    const arm64 = await busyboxBytes('arm64')
    assert.equal(checkElfArch(amd64.subarray(0, 64), 'amd64', 'amd64 busybox').machine, 62)
    assert.throws(() => checkElfArch(arm64.subarray(0, 64), 'amd64', 'arm64 busybox'), /built for aarch64/)
    await withFileReader(busyboxFixture('arm64'), (readAt) => checkStatic(parseElfHeader(arm64, 'b'), readAt, 'arm64 busybox'))
  })
})

describe('static linking', () => {
  it('accepts static and static-pie images', async () => {
    for (const image of [buildElf({machine: 62}), buildElf({dynamicWithoutNeeded: true, machine: 62})]) {
      await checkStatic(parseElfHeader(image, 'x'), bufferReader(image), 'x')
    }
  })

  it('rejects an interpreter or needed libraries, saying which', async () => {
    const interp = buildElf({interpreter: true, machine: 62})
    await rejects(checkStatic(parseElfHeader(interp, 'x'), bufferReader(interp), 'ls'), /ls is dynamically linked: it needs an ELF interpreter/)
    const needed = buildElf({bigEndian: true, machine: 62, neededLibraries: 2})
    await rejects(checkStatic(parseElfHeader(needed, 'x'), bufferReader(needed), 'x'), /2 shared libraries \(DT_NEEDED\)/)
    const small = buildElf({bits: 32, machine: 3, neededLibraries: 1})
    await rejects(checkStatic(parseElfHeader(small, 'x'), bufferReader(small), 'x'), /1 shared library/)
  })

  it('rejects a truncated program header table', async () => {
    const image = buildElf({interpreter: true, machine: 62}).subarray(0, 80)
    await rejects(checkStatic(parseElfHeader(image, 'x'), bufferReader(image), 'x'), /truncated inside its ELF program headers/)
  })
})

describe('streamContains', () => {
  it('finds a needle that straddles chunk boundaries', async () => {
    const chunks = ['xxBusy', 'Box v1.', '36.1 (']
    assert.ok(await streamContains(Readable.from(chunks.map((c) => Buffer.from(c))), 'BusyBox v1.36.1'))
    assert.ok(!(await streamContains(Readable.from([Buffer.from('BusyBox v1.35.0')]), 'BusyBox v1.36.1')))
  })
})
