/**
 * TEST-ONLY hook for the fault matrix (test/integration/fault-matrix.test.ts),
 * so that `kill -9` lands at a named point instead of at a random moment.
 * With E2B_ARTIFACTS_TEST_PAUSE_AT=POINT and E2B_ARTIFACTS_TEST_PAUSE_FILE=PATH,
 * the process writes PATH when it reaches POINT and waits until PATH is
 * removed (the test kills it, or deletes PATH to let it go on). Without those
 * variables every function here is a no-op costing one environment lookup.
 *
 * Points: `upload:after-binary` (the binary is published and read back, its
 * sidecar not yet written), `copy:after-object` (an object is copied, before
 * its copy is confirmed and before its sidecar), `copy:mid-stream` (a streamed
 * copy has passed its first chunk to the destination), `s3:before-put` (an S3
 * conditional put has found the key absent and is about to send).
 */
import {existsSync, writeFileSync} from 'node:fs'
import {Transform, type TransformCallback} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'

import {testPausePoint} from './config.js'

export type PausePoint = 'copy:after-object' | 'copy:mid-stream' | 's3:before-put' | 'upload:after-binary'

function pausing(point: PausePoint): string | undefined {
  const pause = testPausePoint()
  return pause?.point === point ? pause.marker : undefined
}

async function waitWhile(marker: string): Promise<void> {
  writeFileSync(marker, `${process.pid}\n`)
  while (existsSync(marker)) await sleep(10)
}

/** Waits at `point` when a test asked for it. */
export async function pauseAt(point: PausePoint): Promise<void> {
  const marker = pausing(point)
  if (marker !== undefined) await waitWhile(marker)
}

/** A pass-through that waits at `point` after its first chunk, when a test asked for it; undefined otherwise. */
export function pauseMidStream(point: PausePoint): Transform | undefined {
  const marker = pausing(point)
  if (marker === undefined) return undefined
  let chunks = 0
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      if (++chunks !== 2) {
        callback(null, chunk)
        return
      }
      waitWhile(marker).then(() => callback(null, chunk), callback)
    },
  })
}
