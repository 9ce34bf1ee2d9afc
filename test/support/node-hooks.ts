/**
 * NODE_OPTIONS for a CLI under test:
 *
 * - `moduleRecorder` logs every module the process resolves whose URL matches
 *   a pattern, to prove that a path never loads something (the GCS SDK on an
 *   anonymous read, undici's proxy agent on an up-to-date fetch);
 * - `loopbackOnly` makes every DNS lookup of a name other than localhost
 *   fail, so that a test of a default that names a public host cannot leave
 *   the machine even against code that ignores the emulator override.
 *
 *   const hooks = await nodeHooks(dir, {record: /@google-cloud[\\/]storage/, loopbackOnly: true})
 *   await runCli([...], {env: {NODE_OPTIONS: hooks.nodeOptions}})
 *   assert.deepEqual(await hooks.loaded(), [])
 */
import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

export interface NodeHooks {
  readonly nodeOptions: string
  /** Module URLs resolved so far that matched `record`. */
  loaded(): Promise<string[]>
  /** Names whose lookup `loopbackOnly` refused. */
  refused(): Promise<string[]>
  reset(): Promise<void>
}

export interface NodeHookOptions {
  readonly record?: RegExp
  readonly loopbackOnly?: boolean
}

export async function nodeHooks(dir: string, options: NodeHookOptions): Promise<NodeHooks> {
  const loadLog = path.join(dir, 'loaded.log')
  const dnsLog = path.join(dir, 'refused-lookups.log')
  const resolveHooks = path.join(dir, 'resolve-hooks.mjs')
  const preload = path.join(dir, 'preload.mjs')
  const pattern = options.record ?? /^$/
  await writeFile(
    resolveHooks,
    `import {appendFileSync} from 'node:fs'
const pattern = new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)})
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  if (pattern.test(result.url)) appendFileSync(${JSON.stringify(loadLog)}, result.url + '\\n')
  return result
}
`,
  )
  const guard = options.loopbackOnly
    ? `import dns from 'node:dns'
import {appendFileSync} from 'node:fs'
const lookup = dns.lookup
const loopback = (name) => name === 'localhost' || name === '::1' || /^127(\\.\\d{1,3}){3}$/.test(name)
dns.lookup = function (hostname, options, callback) {
  if (loopback(String(hostname))) return lookup.call(this, hostname, options, callback)
  appendFileSync(${JSON.stringify(dnsLog)}, hostname + '\\n')
  const done = typeof options === 'function' ? options : callback
  const error = Object.assign(new Error('getaddrinfo ENOTFOUND ' + hostname + ' (the test allows loopback only)'), {code: 'ENOTFOUND', hostname})
  process.nextTick(() => done(error))
}
`
    : ''
  await writeFile(preload, `import {register} from 'node:module'\nregister(${JSON.stringify(pathToFileURL(resolveHooks).href)})\n${guard}`)
  const reset = async (): Promise<void> => {
    await writeFile(loadLog, '')
    await writeFile(dnsLog, '')
  }
  await reset()
  const lines = async (file: string): Promise<string[]> => (await readFile(file, 'utf8')).split('\n').filter(Boolean)
  return {loaded: () => lines(loadLog), nodeOptions: `--import ${pathToFileURL(preload).href}`, refused: () => lines(dnsLog), reset}
}
