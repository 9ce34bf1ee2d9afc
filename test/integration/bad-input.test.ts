import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {PROJECT_ROOT, runCli} from '../support/cli.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

/**
 * The README's "Bad input" table is the single source: every row is run as
 * written, so the table and the behaviour cannot drift apart. The rows run in
 * a directory holding a directory `dir`, a FIFO `fifo` and two malformed lock
 * files, `bad-syntax.lock` and `bad-entry.lock`.
 */
interface Row {
  readonly label: string
  readonly args: string[]
  readonly exitCode: number
  readonly line: string
}

function cell(text: string): string {
  const code = /^`(.*)`$/.exec(text.trim())
  return (code ? code[1]! : text.trim()).replaceAll('\\|', '|')
}

function readmeRows(): Row[] {
  const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')
  const section = /\n## Bad input\n([\s\S]*?)(?=\n## )/.exec(readme)?.[1]
  assert.ok(section, 'README.md has a "## Bad input" section')
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| class ') && !line.startsWith('|---'))
    .map((line) => {
      // Split on unescaped pipes only: a line may contain `\|`.
      const cells = line.slice(1, -1).split(/(?<!\\)\|/).map(cell)
      assert.equal(cells.length, 4, `a row of four cells: ${line}`)
      const [label, input, exitCode, printed] = cells as [string, string, string, string]
      assert.match(input, /^e2b-artifacts /)
      return {args: input.split(' ').slice(1), exitCode: Number(exitCode), label, line: printed}
    })
  assert.ok(rows.length >= 25, `the table has a row for each class of usage error (found ${rows.length})`)
  return rows
}

const rows = readmeRows()
let cwd: string

/** Lock files that are not well-formed: a JSON syntax error on line 4, and an entry with an unknown arch. */
const BAD_LOCKS: Readonly<Record<string, string>> = {
  'bad-entry.lock': `${JSON.stringify(
    {
      entries: [{arch: 'sparc', artifact: 'busybox', file: 'busybox', lockedAt: '2026-04-01T12:00:00.000Z', sha256: 'a'.repeat(64), size: 1, source: 'github:e2b-dev/fc-busybox@v1.36.1', version: '1.36.1'}],
      lockfileVersion: 1,
    },
    null,
    2,
  )}\n`,
  'bad-syntax.lock': '{\n  "entries": [],\n  "lockfileVersion": 1,\n}\n',
}

before(async () => {
  cwd = await tempDir('bad-input')
  await mkdir(path.join(cwd, 'dir'))
  execFileSync('mkfifo', [path.join(cwd, 'fifo')])
  for (const [name, text] of Object.entries(BAD_LOCKS)) await writeFile(path.join(cwd, name), text)
})

after(removeTempDirs)

async function assertUntouched(): Promise<void> {
  assert.deepEqual((await readdir(cwd)).sort(), [...Object.keys(BAD_LOCKS), 'dir', 'fifo'].sort(), 'nothing was written')
  for (const [name, text] of Object.entries(BAD_LOCKS)) assert.equal(await readFile(path.join(cwd, name), 'utf8'), text)
  assert.deepEqual(await readdir(path.join(cwd, 'dir')), [])
}

describe('the README bad-input table', () => {
  for (const row of rows) {
    it(`${row.label}: e2b-artifacts ${row.args.join(' ')}`, async () => {
      const result = await runCli(row.args, {cwd, timeoutMs: 20_000})
      assert.equal(result.code, row.exitCode, result.stderr)
      assert.equal(result.stderr, `${row.line}\n`)
      assert.equal(result.stdout, '')
      await assertUntouched()
    })

    it(`${row.label}, with --json: one JSON document carrying the same line`, async () => {
      const args = [row.args[0]!, '--json', ...row.args.slice(1)]
      const result = await runCli(args, {cwd, timeoutMs: 20_000})
      assert.equal(result.code, row.exitCode, result.stderr)
      assert.equal(result.stderr, `${row.line}\n`)
      const message = row.line.replace(/^e2b-artifacts: error: /, '')
      assert.deepEqual(JSON.parse(result.stdout), {error: {exitCode: row.exitCode, kind: 'usage', message}})
      await assertUntouched()
    })
  }
})
