import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import path from 'node:path'
import {describe, it} from 'node:test'

import {PROJECT_ROOT} from '../support/cli.js'

const HEAVY = ['undici', '@google-cloud/storage', '@aws-sdk/client-s3', '@azure/storage-blob', '@azure/identity', 'ora', 'execa', '@oclif/core']

describe('the fast-path bundle that bin/run.js loads (built by npm run build)', () => {
  it('is what bin/run.js imports', async () => {
    const runner = await readFile(path.join(PROJECT_ROOT, 'bin', 'run.js'), 'utf8')
    assert.match(runner, /await import\('\.\.\/dist\/fast-path\.bundle\.js'\)/)
  })

  it('imports only Node built-ins up front, and heavy packages only lazily', async () => {
    const bundle = await readFile(path.join(PROJECT_ROOT, 'dist', 'fast-path.bundle.js'), 'utf8')
    const staticImports = [...bundle.matchAll(/^import\s[^;]*?from\s+"([^"]+)";/gm)].map((match) => match[1]!)
    assert.ok(staticImports.length > 0, 'the bundle has static imports to check')
    assert.deepEqual(
      staticImports.filter((specifier) => !specifier.startsWith('node:')),
      [],
    )
    assert.doesNotMatch(bundle, /^\/\/ node_modules\//m, 'no package is bundled in')
    const lazyImports = new Set([...bundle.matchAll(/\bimport\("([^"]+)"\)/g)].map((match) => match[1]!))
    assert.ok([...lazyImports].some((specifier) => specifier.startsWith('undici/')), 'undici is imported lazily, from node_modules')
    for (const name of HEAVY) {
      assert.doesNotMatch(bundle, new RegExp(`from "${name}(/[^"]*)?"`), `${name} must not be a static import`)
    }
  })
})
