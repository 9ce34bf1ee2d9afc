import {type TerminalSettings, terminalSettings} from '../core/config.js'
import {writeDirect} from './direct-write.js'
import {redact} from './redact.js'

export interface ReporterOptions {
  readonly json: boolean
  readonly quiet: boolean
}

/** The part of an ora spinner the reporter uses. */
interface Spinner {
  text: string
  clear(): unknown
  render(): unknown
  stop(): unknown
}

/**
 * Human output, always on stderr. Without a TTY (CI, Makefiles, pipes) it is
 * one plain line per action and nothing else; on an interactive terminal a
 * spinner shows what is under way, and lines print above it.
 */
export class Reporter {
  private spinner?: Spinner

  constructor(private readonly options: ReporterOptions) {}

  /** One line per completed action. Silent under --quiet and --json. */
  action(line: string): void {
    if (this.options.quiet || this.options.json) return
    this.write(`${redact(line)}\n`)
  }

  /** Warnings are shown unless --quiet; under --json they go to stderr too, keeping stdout pure. */
  warn(line: string): void {
    if (this.options.quiet) return
    this.write(`warning: ${redact(line)}\n`)
  }

  /** A line that even --quiet keeps: problems and final summaries. */
  always(line: string): void {
    this.write(`${redact(line)}\n`)
  }

  /** Runs `work` with a spinner showing `text`, when a spinner is allowed at all. */
  async withProgress<T>(text: string, work: () => Promise<T>): Promise<T> {
    if (!spinnerAllowed(this.options)) return work()
    const {default: ora} = await import('ora')
    this.spinner = ora({discardStdin: false, stream: process.stderr, text: redact(text)}).start()
    try {
      return await work()
    } finally {
      this.spinner.stop()
      this.spinner = undefined
    }
  }

  private write(text: string): void {
    if (!this.spinner) {
      writeDirect(2, text)
      return
    }
    this.spinner.clear()
    process.stderr.write(text)
    this.spinner.render()
  }
}

/**
 * Spinners only for a person at a terminal: not in CI, not under make -j, not
 * with --json/--quiet, and not on a terminal without a width. `script` without
 * a terminal, and some CI runners, allocate a pseudo-terminal 0 columns wide;
 * ora divides by the width to count the lines it must clear, and then never
 * stops writing cursor movements.
 */
export function spinnerAllowed(
  options: ReporterOptions,
  terminal: TerminalSettings = terminalSettings(),
  isTTY = process.stderr.isTTY,
  columns: number | undefined = process.stderr.columns,
): boolean {
  if (options.json || options.quiet || !isTTY || !(columns !== undefined && columns > 0)) return false
  return !terminal.ci && !terminal.parallelMake && !terminal.dumbTerminal
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes / 1024
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

export function formatJson(value: unknown): string {
  return `${redact(JSON.stringify(value, null, 2))}\n`
}
