import {setFlagsFromString} from 'node:v8'

/**
 * What bin/run.js offers the code it runs (undefined under bin/dev.js and in
 * tests): `load` compiles a CommonJS bundle with the V8 code cache, and
 * `v8Flag` must be told before any V8 flag changes, because a code cache
 * written after that would be rejected by every run that does not change it.
 */
export interface StartupHooks {
  load(file: string): unknown
  v8Flag(flag: string): void
}

export function startupHooks(): StartupHooks | undefined {
  return (globalThis as {[key: symbol]: StartupHooks | undefined})[Symbol.for('e2b-artifacts.startup')]
}

/** Changes a V8 flag at run time, telling the entry first so that it keeps its code cache valid. */
export function setV8Flag(flag: string): void {
  startupHooks()?.v8Flag(flag)
  setFlagsFromString(flag)
}
