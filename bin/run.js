#!/usr/bin/env node
// An up-to-date `fetch` runs on every `make`: answer it before loading oclif.
const {tryFastPath} = await import('../dist/fast-path.js')
if (await tryFastPath(process.argv.slice(2))) {
  process.exitCode = 0
} else {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
  // Pooled connections and SDK timers must not hold a finished command open.
  process.exit()
}
