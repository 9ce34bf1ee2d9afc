/**
 * Turns the raw results of bench/copy.sh into the table it prints: medians
 * from hyperfine's JSON (the tool is the first command, rclone the second),
 * the tool/rclone ratio, bytes moved by the no-change re-runs, peak RSS, and
 * PASS or MISS against the targets of the copy issue. Writes summary.json
 * next to the raw files.
 *
 * usage: node --import tsx bench/copy-summarize.ts RESULTS_DIR
 */
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {median, megabytes} from './stats.js'

interface HyperfineResult {
  command: string
  median: number
  times: number[]
}

interface CaseSpec {
  readonly file: string
  readonly label: string
  readonly maxRatio: number
  /** For no-change re-runs: the bytes each side moved, which must be 0. */
  readonly bytesKey?: string
}

const CASES: readonly CaseSpec[] = [
  {file: 'gcs-gcs-cold.json', label: 'GCS → GCS cold', maxRatio: 1.0},
  {file: 'gcs-s3-cold.json', label: 'GCS → S3 cold', maxRatio: 1.0},
  {file: 'gcs-az-cold.json', label: 'GCS → Azure cold', maxRatio: 1.0},
  {bytesKey: 'gcs', file: 'nochange-gcs.json', label: 'no-change re-run, GCS → GCS', maxRatio: 1.0},
  {bytesKey: 's3', file: 'nochange-s3.json', label: 'no-change re-run, GCS → S3', maxRatio: 1.0},
  {bytesKey: 'az', file: 'nochange-az.json', label: 'no-change re-run, GCS → Azure', maxRatio: 1.0},
]

/** Decimal megabytes, the stricter reading of "200 MB". */
const MAX_RSS_MB = 200

const dir = process.argv[2] ?? ''
if (dir === '') throw new Error('usage: copy-summarize.ts RESULTS_DIR')

function readJson<T>(file: string): T | undefined {
  const full = path.join(dir, file)
  return existsSync(full) ? (JSON.parse(readFileSync(full, 'utf8')) as T) : undefined
}

const seconds = (value: number): string => `${value.toFixed(2)} s`
const rows: string[][] = [['case', 'e2b-artifacts (median)', 'rclone (median)', 'ratio', 'target', 'result']]
const summary: Record<string, unknown> = {}
let allPass = true

const bytes = readJson<{tool: Record<string, number>; rclone: Record<string, number>}>('bytes.json')
for (const spec of CASES) {
  const results = readJson<{results: HyperfineResult[]}>(spec.file)?.results
  if (!results || results.length < 2) continue
  const [tool, rclone] = results as [HyperfineResult, HyperfineResult]
  const ratio = tool.median / rclone.median
  const toolBytes = spec.bytesKey ? bytes?.tool[spec.bytesKey] : undefined
  const rcloneBytes = spec.bytesKey ? bytes?.rclone[spec.bytesKey] : undefined
  const bytesOk = !spec.bytesKey || toolBytes === 0
  const pass = ratio <= spec.maxRatio && bytesOk
  allPass &&= pass
  const target = spec.bytesKey ? `≤ ${spec.maxRatio.toFixed(1)}×, 0 bytes` : `≤ ${spec.maxRatio.toFixed(1)}×`
  const moved = (value: number | undefined): string => (spec.bytesKey ? `, ${value ?? '?'} B moved` : '')
  rows.push([spec.label, `${seconds(tool.median)}${moved(toolBytes)}`, `${seconds(rclone.median)}${moved(rcloneBytes)}`, `${ratio.toFixed(2)}×`, target, pass ? 'PASS' : 'MISS'])
  summary[spec.file.replace(/\.json$/, '')] = {rcloneBytes, rcloneMedian: rclone.median, pass, ratio, toolBytes, toolMedian: tool.median, runs: tool.times.length}
}

/** Peak RSS samples in KiB, as GNU time's %M reports them, per destination: RSS_RUNS cold runs each. */
const rss = readJson<{tool: Record<string, number[]>; rclone: Record<string, number[]>}>('rss.json')
if (rss) {
  const all = (samples: Record<string, number[]>): number[] => Object.values(samples).flat().map(megabytes)
  // The larger direction (a streamed one: GCS → S3 or GCS → Azure) decides; its median and largest sample are shown.
  const worst = (samples: Record<string, number[]>): number[] =>
    Object.values(samples)
      .map((kib) => kib.map(megabytes))
      .reduce((a, b) => (Math.max(...b) > Math.max(...a) ? b : a))
  const show = (samples: Record<string, number[]>): string => `${median(worst(samples)).toFixed(0)} MB (max ${Math.max(...all(samples)).toFixed(0)})`
  const toolPeakMb = Math.max(...all(rss.tool))
  const pass = toolPeakMb <= MAX_RSS_MB
  allPass &&= pass
  rows.push(['peak RSS (median, max of the cold runs)', show(rss.tool), show(rss.rclone), '', `max ≤ ${MAX_RSS_MB} MB`, pass ? 'PASS' : 'MISS'])
  summary.rss = {pass, rcloneKiB: rss.rclone, toolKiB: rss.tool, toolPeakMb}
}

const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
const line = (row: string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
process.stdout.write(`${[line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n')}\n`)
writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify({allPass, ...summary}, null, 2)}\n`)
