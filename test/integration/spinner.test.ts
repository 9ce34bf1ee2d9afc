import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {CLI, testEnv} from '../support/cli.js'
import {FIXTURE_VERSION as V, busyboxBytes} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

/**
 * Every command with a spinner, on a real pseudo-terminal from util-linux
 * `script`: 0 columns wide (what `script` gives without a terminal, and some
 * CI runners) and 80. The command must end, and what it writes stay small.
 */

const sha = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex')
const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`
/** Far more than any of these commands prints; an endless spinner writes megabytes a second. */
const OUTPUT_LIMIT = 256 * 1024

let server: ArtifactServer
let dir: string

interface TerminalRun {
  readonly code: number | null
  readonly output: string
}

/** Runs the CLI under `script`, on a terminal `columns` wide; the CLI itself is killed after 30 s whatever happens. */
function onTerminal(args: string[], columns: number): Promise<TerminalRun> {
  const size = columns > 0 ? `stty cols ${columns} rows 24; ` : ''
  const command = `${size}exec timeout -s KILL 30 ${[process.execPath, CLI, ...args].map(quote).join(' ')}`
  const child = spawn('script', ['-qec', command, '/dev/null'], {cwd: dir, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  const collect = (chunk: Buffer): void => {
    if (output.length < 4 * OUTPUT_LIMIT) output += chunk.toString('latin1')
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({code, output}))
  })
}

before(async () => {
  server = await startArtifactServer()
  dir = await tempDir('spinner')
  const amd64 = await busyboxBytes('amd64')
  const object = `/public-builds/busybox/${V}/amd64/busybox`
  server.put(object, amd64)
  server.put(`${object}.sha256`, `${sha(amd64)}  busybox\n`)
  // Slow enough that the spinner draws several frames.
  server.delay(400)
  // A public layout on disk (for verify and copy), and a local build (for upload).
  for (const root of [path.join(dir, 'public', 'busybox'), path.join(dir, 'build')]) {
    await mkdir(path.join(root, V, 'amd64'), {recursive: true})
    await writeFile(path.join(root, V, 'amd64', 'busybox'), amd64)
    await writeFile(path.join(root, V, 'amd64', 'busybox.sha256'), `${sha(amd64)}  busybox\n`)
  }
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

const COMMANDS: ReadonlyArray<{name: string; args: (columns: number) => string[]; done: RegExp}> = [
  {args: (columns) => ['fetch', '--from', `${server.url}/public-builds`, '--version', V, '--arch', 'amd64', '--out', `fetched-${columns}/busybox`], done: /fetched busybox/, name: 'fetch'},
  {args: () => ['verify', '--at', path.join(dir, 'public'), '--version', V, '--deep'], done: /verify at: busybox: 1 checked, no problems/, name: 'verify'},
  {args: (columns) => ['upload', '--version', V, '--arch', 'amd64', '--from', path.join(dir, 'build'), '--to', path.join(dir, `uploaded-${columns}`)], done: /published busybox/, name: 'upload'},
  {args: (columns) => ['copy-public-builds', '--from', path.join(dir, 'public'), '--to', `busybox=${path.join(dir, `copied-${columns}`)}`], done: /copy-public-builds: 2 copied/, name: 'copy-public-builds'},
]

for (const columns of [0, 80]) {
  describe(`a pseudo-terminal ${columns} columns wide`, () => {
    for (const command of COMMANDS) {
      it(`${command.name} ends, with bounded output${columns > 0 ? ' and a spinner' : ''}`, async () => {
        const run = await onTerminal(command.args(columns), columns)
        assert.ok(run.output.length < OUTPUT_LIMIT, `${run.output.length} bytes of output`)
        assert.equal(run.code, 0, run.output.slice(0, 2000))
        assert.match(run.output, command.done)
        // ora hides the cursor while it spins, and shows it again when it stops.
        if (columns > 0 && command.name === 'fetch') assert.ok(run.output.includes('\u001B[?25l') && run.output.includes('\u001B[?25h'), 'a spinner ran')
        if (columns === 0) assert.ok(!run.output.includes('\u001B[?25l'), 'no spinner on a terminal without a width')
      })
    }
  })
}
