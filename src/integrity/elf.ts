import type {Arch} from '../core/catalog.js'
import {IntegrityError} from '../core/errors.js'
import {closeAsync, openAsync, readAsync} from '../core/fs-async.js'

export const ELF_MACHINE: Readonly<Record<Arch, number>> = {amd64: 62, arm64: 183}

const MACHINE_NAMES: Readonly<Record<number, string>> = {3: 'x86 (32-bit)', 40: 'arm (32-bit)', 62: 'x86-64', 183: 'aarch64'}
const PT_DYNAMIC = 2
const PT_INTERP = 3
const DT_NULL = 0n
const DT_NEEDED = 1n

/** The fields of an ELF file header that the checks need. */
export interface ElfHeader {
  readonly bits: 32 | 64
  readonly littleEndian: boolean
  readonly machine: number
  readonly programHeaderOffset: bigint
  readonly programHeaderSize: number
  readonly programHeaderCount: number
}

export interface ElfLinkage {
  readonly hasInterpreter: boolean
  readonly neededLibraries: number
}

/** Random access to the bytes being inspected: a file or a buffer. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>

export function describeMachine(machine: number): string {
  return MACHINE_NAMES[machine] ?? `machine ${machine}`
}

/** Parses the ELF file header from the first 64 bytes. */
export function parseElfHeader(head: Buffer, where: string): ElfHeader {
  if (head.length < 52 || head.readUInt32BE(0) !== 0x7f_45_4c_46) {
    throw new IntegrityError(`${where} is not an ELF binary`)
  }
  const elfClass = head[4]
  const elfData = head[5]
  if ((elfClass !== 1 && elfClass !== 2) || (elfData !== 1 && elfData !== 2)) {
    throw new IntegrityError(`${where} has a corrupt ELF header`)
  }
  const bits = elfClass === 2 ? 64 : 32
  const littleEndian = elfData === 1
  if (bits === 64 && head.length < 64) throw new IntegrityError(`${where} has a truncated ELF header`)
  const u16 = (offset: number): number => (littleEndian ? head.readUInt16LE(offset) : head.readUInt16BE(offset))
  const u32 = (offset: number): number => (littleEndian ? head.readUInt32LE(offset) : head.readUInt32BE(offset))
  const u64 = (offset: number): bigint => (littleEndian ? head.readBigUInt64LE(offset) : head.readBigUInt64BE(offset))
  return bits === 64
    ? {bits, littleEndian, machine: u16(18), programHeaderCount: u16(56), programHeaderOffset: u64(32), programHeaderSize: u16(54)}
    : {bits, littleEndian, machine: u16(18), programHeaderCount: u16(44), programHeaderOffset: BigInt(u32(28)), programHeaderSize: u16(42)}
}

/** Checks that the ELF machine field matches the arch the binary is published for. */
export function checkElfArch(head: Buffer, arch: Arch, where: string): ElfHeader {
  const header = parseElfHeader(head, where)
  if (header.machine !== ELF_MACHINE[arch]) {
    throw new IntegrityError(
      `${where} is built for ${describeMachine(header.machine)}, not ${arch} (${describeMachine(ELF_MACHINE[arch])})`,
    )
  }
  return header
}

/** Reads the program headers and the dynamic section to find an interpreter and needed libraries. */
export async function inspectLinkage(header: ElfHeader, readAt: ReadAt, where: string): Promise<ElfLinkage> {
  const wide = header.bits === 64
  const entrySize = header.programHeaderSize
  const count = header.programHeaderCount
  if (count > 4096 || entrySize < (wide ? 56 : 32)) throw new IntegrityError(`${where} has corrupt ELF program headers`)
  const table = await readAt(Number(header.programHeaderOffset), entrySize * count)
  if (table.length < entrySize * count) throw new IntegrityError(`${where} is truncated inside its ELF program headers`)
  const le = header.littleEndian
  const u32 = (b: Buffer, o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o))
  const word = (b: Buffer, o: number): bigint => (wide ? (le ? b.readBigUInt64LE(o) : b.readBigUInt64BE(o)) : BigInt(u32(b, o)))

  let hasInterpreter = false
  let neededLibraries = 0
  for (let i = 0; i < count; i++) {
    const base = i * entrySize
    const type = u32(table, base)
    if (type === PT_INTERP) hasInterpreter = true
    if (type !== PT_DYNAMIC) continue
    const offset = Number(word(table, base + (wide ? 8 : 4)))
    const fileSize = Number(word(table, base + (wide ? 32 : 16)))
    const dynamic = await readAt(offset, Math.min(fileSize, 1 << 20))
    const entryBytes = wide ? 16 : 8
    for (let at = 0; at + entryBytes <= dynamic.length; at += entryBytes) {
      const tag = word(dynamic, at)
      if (tag === DT_NULL) break
      if (tag === DT_NEEDED) neededLibraries++
    }
  }
  return {hasInterpreter, neededLibraries}
}

/** Checks that the binary needs no dynamic loader and no shared libraries. */
export async function checkStatic(header: ElfHeader, readAt: ReadAt, where: string): Promise<void> {
  const linkage = await inspectLinkage(header, readAt, where)
  if (linkage.hasInterpreter || linkage.neededLibraries > 0) {
    const reasons = [
      linkage.hasInterpreter ? 'an ELF interpreter (PT_INTERP)' : '',
      linkage.neededLibraries > 0 ? `${linkage.neededLibraries} shared librar${linkage.neededLibraries === 1 ? 'y' : 'ies'} (DT_NEEDED)` : '',
    ].filter(Boolean)
    throw new IntegrityError(`${where} is dynamically linked: it needs ${reasons.join(' and ')}; publish a static build`)
  }
}

export function bufferReader(buffer: Buffer): ReadAt {
  return async (offset, length) => buffer.subarray(offset, offset + length)
}

/** Runs `use` with random access to a local file, closing it afterwards. */
export async function withFileReader<T>(filePath: string, use: (readAt: ReadAt) => Promise<T>): Promise<T> {
  const fd = await openAsync(filePath, 'r')
  try {
    return await use(async (offset, length) => {
      const buffer = Buffer.alloc(length)
      const {bytesRead} = await readAsync(fd, buffer, 0, length, offset)
      return buffer.subarray(0, bytesRead)
    })
  } finally {
    await closeAsync(fd)
  }
}

/** Whether the content contains `needle`, found by streaming (matches may straddle chunks). */
export async function streamContains(chunks: AsyncIterable<Buffer>, needle: string): Promise<boolean> {
  const pattern = Buffer.from(needle)
  let carry = Buffer.alloc(0)
  for await (const chunk of chunks) {
    const window = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk
    if (window.includes(pattern)) return true
    carry = Buffer.from(window.subarray(Math.max(0, window.length - pattern.length + 1)))
  }
  return false
}
