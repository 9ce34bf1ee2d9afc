import {writeSync} from 'node:fs'

/**
 * Writes `text` straight to stdout (1) or stderr (2). The first use of
 * process.stdout or process.stderr builds a stream for it, about 1 ms of a
 * no-op `fetch` that prints one line; and bin/run.js flushes only the streams
 * that exist. Whatever the descriptor does not take at once (a pipe that Node
 * has made non-blocking and that is full, a reader that went away) goes
 * through the stream, which behaves as it always did.
 */
export function writeDirect(fd: 1 | 2, text: string): void {
  const data = Buffer.from(text)
  let offset = 0
  try {
    while (offset < data.length) offset += writeSync(fd, data, offset)
  } catch {
    ;(fd === 1 ? process.stdout : process.stderr).write(data.subarray(offset))
  }
}
