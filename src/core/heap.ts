import {setV8Flag} from './v8-flags.js'

/**
 * For commands that stream many objects through this process (copies, deep
 * audits). Their bytes arrive in 64 KiB socket buffers that are freed only
 * when a scavenge finds them dead; V8 otherwise grows the young generation to
 * 32 MiB, so scavenges grow rare and dead buffers pile up. Keeping it at its
 * starting size took copy-public-builds' peak RSS from about 200 MB to about
 * 170 MB, at no measurable cost in time (bench/copy.sh). Called by those
 * commands only: a changed V8 flag makes Node compile its own modules afresh,
 * which start-up, and the fetch fast path above all, should not pay for.
 */
export function keepYoungGenerationSmall(): void {
  setV8Flag('--semi-space-growth-factor=1')
}
