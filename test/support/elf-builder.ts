/** Builds small synthetic ELF images for unit tests: just enough structure for the inspectors. */
export interface ElfSpec {
  machine: number
  bits?: 32 | 64
  bigEndian?: boolean
  interpreter?: boolean
  neededLibraries?: number
  /** A PT_DYNAMIC segment without DT_NEEDED, as in static-pie binaries. */
  dynamicWithoutNeeded?: boolean
  trailer?: string
}

const PT_DYNAMIC = 2
const PT_INTERP = 3

export function buildElf(spec: ElfSpec): Buffer {
  const wide = (spec.bits ?? 64) === 64
  const le = !spec.bigEndian
  const headerSize = wide ? 64 : 52
  const phentsize = wide ? 56 : 32
  const segments: Array<{type: number; body: Buffer}> = []
  if (spec.interpreter) segments.push({body: Buffer.from('/lib64/ld-linux-x86-64.so.2\0'), type: PT_INTERP})
  const needed = spec.neededLibraries ?? 0
  if (needed > 0 || spec.dynamicWithoutNeeded) {
    const entry = wide ? 16 : 8
    const dyn = Buffer.alloc(entry * (needed + 2))
    const put = (at: number, value: number): void => {
      if (wide) {
        if (le) dyn.writeBigUInt64LE(BigInt(value), at)
        else dyn.writeBigUInt64BE(BigInt(value), at)
      } else if (le) dyn.writeUInt32LE(value, at)
      else dyn.writeUInt32BE(value, at)
    }
    for (let i = 0; i < needed; i++) put(i * entry, 1)
    put(needed * entry, 0x6ffffffb) // DT_FLAGS_1, something other than DT_NEEDED
    segments.push({body: dyn, type: PT_DYNAMIC})
  }
  const tableSize = phentsize * segments.length
  let offset = headerSize + tableSize
  const header = Buffer.alloc(headerSize)
  header.writeUInt32BE(0x7f_45_4c_46, 0)
  header[4] = wide ? 2 : 1
  header[5] = le ? 1 : 2
  header[6] = 1
  const u16 = (at: number, v: number): number => (le ? header.writeUInt16LE(v, at) : header.writeUInt16BE(v, at))
  u16(16, 2)
  u16(18, spec.machine)
  if (wide) {
    if (le) header.writeBigUInt64LE(BigInt(headerSize), 32)
    else header.writeBigUInt64BE(BigInt(headerSize), 32)
    u16(54, phentsize)
    u16(56, segments.length)
  } else {
    if (le) header.writeUInt32LE(headerSize, 28)
    else header.writeUInt32BE(headerSize, 28)
    u16(42, phentsize)
    u16(44, segments.length)
  }
  const table = Buffer.alloc(tableSize)
  segments.forEach((segment, index) => {
    const base = index * phentsize
    const w32 = (at: number, v: number): number => (le ? table.writeUInt32LE(v, at) : table.writeUInt32BE(v, at))
    const word = (at: number, v: number): void => {
      if (!wide) w32(at, v)
      else if (le) table.writeBigUInt64LE(BigInt(v), at)
      else table.writeBigUInt64BE(BigInt(v), at)
    }
    w32(base, segment.type)
    word(base + (wide ? 8 : 4), offset)
    word(base + (wide ? 32 : 16), segment.body.length)
    offset += segment.body.length
  })
  return Buffer.concat([header, table, ...segments.map((s) => s.body), Buffer.from(spec.trailer ?? '')])
}
