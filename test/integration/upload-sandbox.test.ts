import assert from 'node:assert/strict'
import {mkdir, readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {type SandboxKind, SANDBOX_KINDS, detectSandbox} from '../../src/integrity/sandbox.js'
import {type ArtifactServer, startArtifactServer} from '../support/artifact-server.js'
import {type CliResult, runCli} from '../support/cli.js'
import {FIXTURE_VERSION as V} from '../support/fixtures.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

/**
 * upload runs the busybox it is about to publish, to see its banner. That
 * binary came from the network: here it is a probe that tries to read a
 * credential file planted in the uploader's HOME and to reach a server on
 * the host, and reports both in the banner it prints (upload shows the
 * banner in its "verified" line). Inside the sandbox both must fail; without
 * one it must not run at all.
 *
 * The probe, x86-64 (GNU as, Intel syntax), followed by its data:
 *     mov eax, 2; lea rdi, [rip+path]; xor esi, esi; xor edx, edx; syscall      open(path, O_RDONLY)
 *     mov r12, rax
 *     mov eax, 41; mov edi, 2; mov esi, 1; xor edx, edx; syscall                 socket(AF_INET, SOCK_STREAM, 0)
 *     mov r13, rax; mov rdi, rax
 *     mov eax, 42; lea rsi, [rip+sockaddr]; mov edx, 16; syscall                connect(fd, sockaddr, 16)
 *     mov r14, rax; test r14, r14; jnz 1f
 *     mov eax, 1; mov rdi, r13; lea rsi, [rip+request]; mov edx, 32; syscall    write(fd, request, 32) when connected
 *  1: xor ebx, ebx; test r12, r12; js 2f; add ebx, 2
 *  2: test r14, r14; jnz 3f; add ebx, 1
 *  3: shl ebx, 6; lea rsi, [rip+banners]; add rsi, rbx
 *     mov eax, 1; mov edi, 1; mov edx, 64; syscall                              write(1, banners[ebx], 64)
 *     mov eax, 60; xor edi, edi; syscall                                         exit(0)
 *     sockaddr: .space 16; request: .space 32; banners: .space 256; path: .asciz "…"
 */
function hex(text: string): Buffer {
  return Buffer.from(text.replaceAll(/\s+/g, ''), 'hex')
}

const PROBE_CODE = hex(
  'b802000000 488d3dbc010000 31f6 31d2 0f05 4989c4 b829000000 bf02000000 be01000000 31d2 0f05 4989c5 4889c7 b82a000000 488d355e000000 ba10000000 0f05 ' +
    '4989c6 4d85f6 7516 b801000000 4c89ef 488d3550000000 ba20000000 0f05 31db 4d85e4 7803 83c302 4d85f6 7503 83c301 c1e306 488d354d000000 4801de ' +
    'b801000000 bf01000000 ba40000000 0f05 b83c000000 31ff 0f05',
)
const ESCAPE_PATH = '/sandbox-escape'

function banner(credentials: boolean, network: boolean): Buffer {
  const text = `BusyBox v${V} (probe) credentials=${credentials ? 'read' : 'hidden'} network=${network ? 'reached' : 'unreachable'}`
  return Buffer.from(`${text.padEnd(63)}\n`, 'latin1')
}

/** The probe as a static x86-64 ELF: reads `credentialFile`, connects to 127.0.0.1:`port`. */
function probeElf(credentialFile: string, port: number): Buffer {
  assert.equal(PROBE_CODE.length, 0x98, 'the code ends where its data starts')
  const sockaddr = Buffer.alloc(16)
  sockaddr.writeUInt16LE(2, 0)
  sockaddr.writeUInt16BE(port, 2)
  sockaddr.set([127, 0, 0, 1], 4)
  const request = Buffer.from(`GET ${ESCAPE_PATH} HTTP/1.0\r\n\r\n`.padEnd(32, ' '), 'latin1')
  assert.equal(request.length, 32)
  const banners = Buffer.concat([banner(false, false), banner(false, true), banner(true, false), banner(true, true)])
  const code = Buffer.concat([PROBE_CODE, sockaddr, request, banners, Buffer.from(`${credentialFile}\0`)])
  const base = 0x400000n
  const headers = 64 + 56
  const elf = Buffer.alloc(headers + code.length)
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0)
  elf.writeUInt16LE(2, 16) // ET_EXEC
  elf.writeUInt16LE(62, 18) // x86-64
  elf.writeUInt32LE(1, 20)
  elf.writeBigUInt64LE(base + BigInt(headers), 24)
  elf.writeBigUInt64LE(64n, 32)
  elf.writeUInt16LE(64, 52)
  elf.writeUInt16LE(56, 54)
  elf.writeUInt16LE(1, 56)
  elf.writeUInt32LE(1, 64) // PT_LOAD, R+X, the whole file
  elf.writeUInt32LE(5, 68)
  elf.writeBigUInt64LE(base, 80)
  elf.writeBigUInt64LE(base, 88)
  elf.writeBigUInt64LE(BigInt(elf.length), 96)
  elf.writeBigUInt64LE(BigInt(elf.length), 104)
  elf.writeBigUInt64LE(0x1000n, 112)
  code.copy(elf, headers)
  return elf
}

const SENTINEL = 'upload-sandbox-SENTINEL-4e1b'
let server: ArtifactServer
let root: string
let home: string
let credentialFile: string

before(async () => {
  server = await startArtifactServer()
  root = await tempDir('upload-sandbox')
  home = path.join(root, 'home')
  credentialFile = path.join(home, '.aws', 'credentials')
  await mkdir(path.dirname(credentialFile), {recursive: true})
  await writeFile(credentialFile, `[default]\naws_secret_access_key = ${SENTINEL}\n`, {mode: 0o644})
  const port = Number(new URL(server.url).port)
  const build = path.join(root, 'build', V, 'amd64')
  await mkdir(build, {recursive: true})
  await writeFile(path.join(build, 'busybox'), probeElf(credentialFile, port))
})

after(async () => {
  await server.close()
  await removeTempDirs()
})

function upload(destination: string, sandbox: string): Promise<CliResult> {
  return runCli(['upload', '--version', V, '--arch', 'amd64', '--from', path.join(root, 'build'), '--to', path.join(root, destination)], {
    cwd: root,
    env: {E2B_ARTIFACTS_SANDBOX: sandbox, HOME: home},
    timeoutMs: 60_000,
  })
}

/** Requests from the probe that reached the server, counted once a late one would have arrived. */
async function escapes(expected = 0): Promise<number> {
  const count = (): number => server.requests.filter((request) => request.path === ESCAPE_PATH).length
  for (let waited = 0; count() < Math.max(expected, 1) && waited < 1000; waited += 50) await sleep(50)
  return count()
}
const onX64 = process.arch === 'x64' ? false : 'the probe is x86-64 machine code'

describe('upload: the run check of a downloaded busybox', {skip: onX64}, () => {
  beforeEach(() => server.resetLog())

  it('the probe does read the file and reach the server when nothing holds it back (the test sees what it claims to)', async () => {
    const {spawnSync} = await import('node:child_process')
    const file = path.join(root, 'probe-unsandboxed')
    await writeFile(file, probeElf(credentialFile, Number(new URL(server.url).port)), {mode: 0o755})
    const output = spawnSync(file, [], {encoding: 'latin1', timeout: 10_000}).stdout
    assert.match(output, /credentials=read network=reached/)
    assert.equal(await escapes(1), 1)
  })

  for (const kind of SANDBOX_KINDS) {
    it(`in ${kind}: the binary sees no credential file and reaches no network`, async () => {
      const info = await detectSandbox([kind as SandboxKind])
      assert.ok(info.available, `${kind} must work on this machine: ${info.available ? '' : info.reason}`)
      const result = await upload(`published-${kind}`, kind)
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, new RegExp(`ran: BusyBox v${V.replaceAll('.', '\\.')} \\(probe\\) credentials=hidden network=unreachable\\)`))
      assert.equal(await escapes(), 0, 'nothing reached the server')
      assert.ok(!result.stderr.includes(SENTINEL) && !result.stdout.includes(SENTINEL))
    })
  }

  it('without a sandbox: the binary is not run at all, and a warning says so', async () => {
    const result = await upload('published-none', 'none')
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^warning: .*\/build\/1\.35\.0\/amd64\/busybox was not run: no sandbox is available here \(no sandbox is allowed\); the static checks \(ELF machine, static linking, version string\) passed, and a downloaded binary is never run outside a sandbox$/m)
    assert.match(result.stderr, /ELF machine, static, version string, not run: no sandbox\)/)
    assert.doesNotMatch(result.stderr, /ran: /)
    assert.equal(await escapes(), 0, 'the binary never ran')
    // The static checks still ran and passed: it was published.
    assert.deepEqual(await readFile(path.join(root, 'published-none', 'busybox', V, 'amd64', 'busybox')), await readFile(path.join(root, 'build', V, 'amd64', 'busybox')))
  })

  it('refuses an unknown E2B_ARTIFACTS_SANDBOX with one line', async () => {
    const result = await upload('published-bad', 'docker')
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /E2B_ARTIFACTS_SANDBOX='docker': expected none or a comma-separated list of bwrap, unshare\n$/)
  })
})
