/**
 * The fast path's command-line parser: the few forms a Makefile writes, and
 * nothing else. Node's `util.parseArgs` would do, but loading it costs about
 * 4 ms on a start-up that must stay near `node -e 0`. Anything outside these
 * forms (an unknown or repeated flag, `--flag=` on a boolean, a value that
 * looks like a flag, `--`, grouped short flags) gives undefined, and the
 * caller leaves the command line to oclif, which owns every message.
 */

export interface FastOption {
  readonly type: 'boolean' | 'string'
  readonly short?: string
}

export interface FastArgs {
  readonly values: Readonly<Record<string, boolean | string>>
  readonly positionals: readonly string[]
}

function optionNamed(options: Readonly<Record<string, FastOption>>, arg: string): string | undefined {
  if (arg.startsWith('--')) return Object.hasOwn(options, arg.slice(2)) ? arg.slice(2) : undefined
  return Object.keys(options).find((name) => options[name]!.short !== undefined && arg === `-${options[name]!.short}`)
}

export function parseFastArgs(args: readonly string[], options: Readonly<Record<string, FastOption>>): FastArgs | undefined {
  const values: Record<string, boolean | string> = {}
  const positionals: string[] = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const equals = arg.startsWith('--') ? arg.indexOf('=') : -1
    const name = optionNamed(options, equals === -1 ? arg : arg.slice(0, equals))
    if (name === undefined || Object.hasOwn(values, name)) return undefined
    if (options[name]!.type === 'boolean') {
      if (equals !== -1) return undefined
      values[name] = true
      continue
    }
    const value = equals === -1 ? args[++i] : arg.slice(equals + 1)
    if (value === undefined || (equals === -1 && value.length > 1 && value.startsWith('-'))) return undefined
    values[name] = value
  }
  return {positionals, values}
}
