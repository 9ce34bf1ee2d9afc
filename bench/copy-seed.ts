/**
 * Seeds the public layout that bench/copy.sh copies: 200 binaries of 1–20 MB
 * across busybox, kernels (some in the legacy layout without an arch level)
 * and firecrackers, each with its sidecar, written through the store classes
 * so that every object carries sha256 metadata as `upload` writes it.
 * Sizes come from a fixed seed, so the layout is the same on every machine;
 * when the bucket already holds exactly this layout it is left alone.
 *
 * usage: node --import tsx bench/copy-seed.ts gs://BUCKET [N]
 *        (N: only the first N binaries, for a quick check that the benchmark runs)
 */
import {createHash, randomBytes} from 'node:crypto'

import {parseLocation} from '../src/core/location.js'
import {mapLimit} from '../src/core/concurrency.js'
import {openStore} from '../src/stores/open-store.js'

const MB = 1_000_000

/** mulberry32: a tiny deterministic PRNG, so the sizes never change between runs. */
function prng(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Public keys of the 200 binaries and their sizes. */
export function benchLayout(): Array<{key: string; size: number}> {
  const random = prng(20261128)
  const size = (): number => MB + Math.floor(random() * 19 * MB)
  const binaries: Array<{key: string; size: number}> = []
  for (let v = 0; v < 30; v++) for (const arch of ['amd64', 'arm64']) binaries.push({key: `busybox/1.${v}.0/${arch}/busybox`, size: size()})
  for (let v = 0; v < 10; v++) binaries.push({key: `kernels/5.10.${v}/vmlinux.bin`, size: size()})
  for (let v = 0; v < 30; v++) for (const arch of ['amd64', 'arm64']) binaries.push({key: `kernels/6.1.${v}/${arch}/vmlinux.bin`, size: size()})
  for (let v = 0; v < 35; v++) for (const arch of ['amd64', 'arm64']) binaries.push({key: `firecrackers/v1.${v}.0/${arch}/firecracker`, size: size()})
  return binaries
}

async function main(): Promise<void> {
  const [target, count] = process.argv.slice(2)
  if (!target || (count !== undefined && !/^[1-9][0-9]*$/.test(count))) throw new Error('usage: copy-seed.ts gs://BUCKET [N]')
  const store = await openStore(parseLocation(target))
  try {
    const layout = count === undefined ? benchLayout() : benchLayout().slice(0, Number(count))
    const existing = new Map<string, number>()
    for await (const object of store.list('')) if ('size' in object) existing.set(object.key, object.size)
    const complete = existing.size === layout.length * 2 && layout.every(({key, size}) => existing.get(key) === size && existing.has(`${key}.sha256`))
    if (complete) {
      process.stderr.write(`${target} already holds the bench layout (${layout.length} binaries and their sidecars)\n`)
      return
    }
    const total = layout.reduce((sum, {size}) => sum + size, 0)
    process.stderr.write(`seeding ${target}: ${layout.length} binaries, ${(total / 1e9).toFixed(2)} GB, with sidecars\n`)
    await mapLimit(layout, 4, async ({key, size}) => {
      const body = randomBytes(size)
      const sha256 = createHash('sha256').update(body).digest('hex')
      await store.write(key, body, {precondition: 'any', sha256, size})
      const sidecar = Buffer.from(`${sha256}  ${key.split('/').at(-1)}\n`)
      await store.write(`${key}.sha256`, sidecar, {precondition: 'any', sha256: createHash('sha256').update(sidecar).digest('hex'), size: sidecar.length})
    })
  } finally {
    await store.close?.()
  }
}

await main()
