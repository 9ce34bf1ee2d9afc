import assert from 'node:assert/strict'
import {appendFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {after, describe, it} from 'node:test'

import {ProxyLog, parseRequestLine, parseRequests} from '../support/proxy-log.js'
import {removeTempDirs, tempDir} from '../support/temp-dirs.js'

// Lines as tinyproxy 1.11 writes them at LogLevel Connect.
const CONNECT_LINE = 'CONNECT   Nov 29 12:48:16.367 [18772]: Request (file descriptor 5): CONNECT 127.0.0.1:18933 HTTP/1.1'
const GET_LINE = 'CONNECT   Nov 29 12:48:16.359 [18772]: Request (file descriptor 5): GET http://127.0.0.1:18933/a/b?x=1&y=2 HTTP/1.1'
const NOISE = [
  'CONNECT   Nov 29 12:48:16.358 [18772]: Connect (file descriptor 5): 127.0.0.1',
  'NOTICE    Nov 29 12:48:16.359 [18772]: Proxying refused on filtered domain "127.0.0.1"',
  'CONNECT   Nov 29 12:48:16.379 [18772]: Established connection to host "127.0.0.1" using file descriptor 6.',
]

describe('proxy log parsing', () => {
  it('reads CONNECT and forwarded request lines into method, target, host, port and path', () => {
    const connect = parseRequestLine(CONNECT_LINE)
    assert.deepEqual({...connect, line: undefined}, {
      host: '127.0.0.1', line: undefined, method: 'CONNECT', port: 18933, summary: 'CONNECT 127.0.0.1:18933', target: '127.0.0.1:18933', truncated: false,
    })
    const get = parseRequestLine(GET_LINE)
    assert.equal(get?.summary, 'GET http://127.0.0.1:18933/a/b?x=1&y=2')
    assert.equal(get?.host, '127.0.0.1')
    assert.equal(get?.port, 18933)
    assert.equal(get?.path, '/a/b?x=1&y=2')
  })

  it('handles IPv6, default ports, transparent requests and lines cut at 800 bytes', () => {
    const v6 = parseRequestLine('CONNECT   Nov 29 12:48:16.367 [1]: Request (file descriptor 7): CONNECT [::1]:8443 HTTP/1.1')
    assert.equal(v6?.host, '::1')
    assert.equal(v6?.port, 8443)
    const defaultPort = parseRequestLine('CONNECT   Nov 29 12:48:16.367 [1]: Request (file descriptor 7): PUT http://localhost/up HTTP/1.1')
    assert.equal(defaultPort?.method, 'PUT')
    assert.equal(defaultPort?.port, 80)
    const transparent = parseRequestLine('CONNECT   Nov 29 12:53:44.930 [27987]: Request (file descriptor 5): GET / HTTP/1.1')
    assert.equal(transparent?.target, '/')
    assert.equal(transparent?.host, undefined)
    const cut = parseRequestLine(`CONNECT   Nov 29 12:48:16.367 [1]: Request (file descriptor 7): GET http://127.0.0.1:1/${'a'.repeat(700)}`)
    assert.equal(cut?.truncated, true)
    assert.equal(parseRequestLine(GET_LINE)?.truncated, false)
  })

  it('ignores every other line', () => {
    assert.deepEqual(NOISE.map(parseRequestLine), [undefined, undefined, undefined])
    assert.deepEqual(parseRequests([NOISE[0]!, CONNECT_LINE, NOISE[1]!, GET_LINE, NOISE[2]!]).map((r) => r.method), ['CONNECT', 'GET'])
  })
})

describe('ProxyLog', () => {
  after(removeTempDirs)

  it('returns only complete lines written after the mark, without NUL padding', async () => {
    const file = path.join(await tempDir(), 'access.log')
    writeFileSync(file, `${NOISE[0]}\n${CONNECT_LINE}\n`)
    const log = new ProxyLog(file)
    const mark = log.mark()
    assert.deepEqual(log.linesSince(mark), [])

    // tinyproxy writes prefix, message and newline separately: a reader can see half a line.
    appendFileSync(file, `${GET_LINE}\n${NOISE[1]!.slice(0, 30)}`)
    assert.deepEqual(log.linesSince(mark), [GET_LINE])
    // A mark taken now puts the half-written line after it.
    const later = log.mark()
    appendFileSync(file, `${NOISE[1]!.slice(30)}\n\0\0\0${CONNECT_LINE}\n`)
    assert.deepEqual(log.linesSince(mark), [GET_LINE, NOISE[1], CONNECT_LINE])
    assert.deepEqual(log.linesSince(later), [NOISE[1], CONNECT_LINE])
    assert.deepEqual(log.requestsSince(later).map((r) => r.summary), ['CONNECT 127.0.0.1:18933'])

    writeFileSync(file, '')
    assert.throws(() => log.linesSince(mark), /truncated/)
  })

  it('waits for requests to appear, and says what it saw when they do not', async () => {
    const file = path.join(await tempDir(), 'access.log')
    writeFileSync(file, '')
    const log = new ProxyLog(file)
    const mark = log.mark()
    setTimeout(() => appendFileSync(file, `${CONNECT_LINE}\n`), 100)
    const seen = await log.waitForRequests(mark, (requests) => requests.length === 1, 2000)
    assert.equal(seen[0]?.target, '127.0.0.1:18933')
    await assert.rejects(log.waitForRequests(mark, (requests) => requests.length === 2, 200), /CONNECT 127\.0\.0\.1:18933/)
  })
})
