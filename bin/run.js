#!/usr/bin/env node
// `fetch` runs on every `make`: well-formed fetches skip loading oclif (see src/fast-path.ts),
// from one bundled file (scripts/bundle-fast-path.mjs).
const {tryFastPath} = await import('../dist/fast-path.bundle.js')
if (!(await tryFastPath(process.argv.slice(2)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
// Pooled connections and SDK timers must not hold a finished command open, but
// a pipe may still hold output (a large --json report): exit once it is flushed.
await Promise.all([process.stdout, process.stderr].map((stream) => new Promise((resolve) => stream.write('', resolve))))
process.exit()
