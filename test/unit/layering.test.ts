import assert from 'node:assert/strict'
import path from 'node:path'
import {describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {ESLint} from 'eslint'

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Lints `code` as if it were the file at `file` (relative to the project), with the project's own config. */
async function ruleIds(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({cwd: PROJECT_ROOT})
  const [result] = await eslint.lintText(code, {filePath: path.join(PROJECT_ROOT, file)})
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message)
}

describe('layering rules in lint', () => {
  it('fails on an import from a layer above', async () => {
    assert.deepEqual(await ruleIds('src/core/example.ts', "import {withRetry} from '../net/retry.js'\nexport const x = withRetry\n"), ['import-x/no-restricted-paths'])
    assert.deepEqual(await ruleIds('src/stores/example.ts', "import {upload} from '../services/upload/upload.js'\nexport const x = upload\n"), ['import-x/no-restricted-paths'])
    assert.deepEqual(await ruleIds('src/stores/example.ts', "import {listAll} from './ops/list-all.js'\nexport const x = listAll\n"), ['import-x/no-restricted-paths'])
  })

  it('fails on one service importing another', async () => {
    assert.deepEqual(await ruleIds('src/services/copy/example.ts', "import {upload} from '../upload/upload.js'\nexport const x = upload\n"), ['import-x/no-restricted-paths'])
  })

  it('fails on an import cycle', async () => {
    // catalog.ts imports errors.ts, so errors.ts importing catalog.ts closes a circle.
    assert.deepEqual(await ruleIds('src/core/errors.ts', "import {ARCHES} from './catalog.js'\nexport const x = ARCHES\n"), ['import-x/no-cycle'])
  })

  it('fails on process.env outside core/config.ts, and allows it there', async () => {
    assert.deepEqual(await ruleIds('src/net/example.ts', 'export const x = process.env.HOME\n'), ['no-restricted-properties'])
    assert.deepEqual(await ruleIds('src/cli/example.ts', 'const {env} = process\nexport const x = env\n'), ['no-restricted-properties'])
    assert.deepEqual(await ruleIds('src/core/config.ts', 'export const x = process.env.HOME\n'), [])
  })

  it('accepts imports that go down', async () => {
    assert.deepEqual(await ruleIds('src/services/fetch/example.ts', "import {withRetry} from '../../net/retry.js'\nimport {listAll} from '../../stores/ops/list-all.js'\nexport const x = [withRetry, listAll]\n"), [])
  })
})
