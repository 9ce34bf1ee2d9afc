/**
 * Turns the raw results of bench/fetch.sh into the table it prints: medians
 * from hyperfine's JSON, the tool/baseline ratio, and PASS or MISS against the
 * targets of the fetch issue. Also writes summary.json next to the raw files.
 *
 * usage: node --import tsx bench/summarize.ts RESULTS_DIR
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
  name: string
  baseline: string
  /** The largest acceptable tool/baseline ratio of medians. */
  maxRatio: number
}

/** Peak RSS samples in KiB, as GNU time's %M reports them. */
interface RssSamples {
  tool: number[]
  baseline: number[]
}

const CASES: readonly CaseSpec[] = [
  {baseline: 'node -e 0', maxRatio: 2.0, name: 'noop'},
  {baseline: 'fetch-busybox.sh', maxRatio: 1.5, name: 'cold-small'},
  {baseline: 'fetch-busybox.sh', maxRatio: 0.9, name: 'cold-large'},
]

/** Decimal megabytes, the stricter reading of "150 MB". */
const MAX_RSS_MB = 150

function seconds(value: number): string {
  return value >= 1 ? `${value.toFixed(2)} s` : `${(value * 1000).toFixed(1)} ms`
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T
}

function findResult(results: readonly HyperfineResult[], command: string, file: string): HyperfineResult {
  const found = results.find((r) => r.command === command)
  if (!found) throw new Error(`${file} has no result named "${command}"`)
  return found
}

function table(rows: readonly string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')
}

function main(dir: string): void {
  const rows: string[][] = [['case', 'tool median', 'baseline', 'baseline median', 'ratio', 'target', 'result']]
  const summary: Record<string, unknown> = {}
  let misses = 0

  for (const spec of CASES) {
    const file = path.join(dir, `${spec.name}.json`)
    if (!existsSync(file)) continue
    const {results} = readJson<{results: HyperfineResult[]}>(file)
    const tool = findResult(results, 'tool', file)
    const baseline = findResult(results, 'baseline', file)
    const ratio = tool.median / baseline.median
    const pass = ratio <= spec.maxRatio
    if (!pass) misses++
    rows.push([
      spec.name,
      seconds(tool.median),
      spec.baseline,
      seconds(baseline.median),
      `${ratio.toFixed(2)}x`,
      `<= ${spec.maxRatio.toFixed(1)}x`,
      pass ? 'PASS' : 'MISS',
    ])
    summary[spec.name] = {
      baselineMedianS: baseline.median,
      maxRatio: spec.maxRatio,
      pass,
      ratio,
      runs: tool.times.length,
      toolMedianS: tool.median,
    }
  }

  const rssFile = path.join(dir, 'cold-large-rss.json')
  if (existsSync(rssFile)) {
    const rss = readJson<RssSamples>(rssFile)
    const toolMax = megabytes(Math.max(...rss.tool))
    const pass = toolMax <= MAX_RSS_MB
    if (!pass) misses++
    rows.push([
      'cold-large peak RSS',
      `${megabytes(median(rss.tool)).toFixed(1)} MB (max ${toolMax.toFixed(1)})`,
      'fetch-busybox.sh',
      `${megabytes(median(rss.baseline)).toFixed(1)} MB (max ${megabytes(Math.max(...rss.baseline)).toFixed(1)})`,
      '-',
      `max <= ${MAX_RSS_MB} MB`,
      pass ? 'PASS' : 'MISS',
    ])
    summary['cold-large-rss'] = {
      baselineMb: rss.baseline.map(megabytes),
      maxMb: MAX_RSS_MB,
      pass,
      toolMb: rss.tool.map(megabytes),
    }
  }

  if (rows.length === 1) throw new Error(`no benchmark results in ${dir}`)
  writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`)
  process.stdout.write(`${table(rows)}\n`)
  process.stdout.write(`${misses === 0 ? 'all targets met' : `${misses} target(s) missed`}; raw results in ${dir}\n`)
}

const dir = process.argv[2]
if (!dir) {
  process.stderr.write('usage: summarize.ts RESULTS_DIR\n')
  process.exit(2)
}
main(dir)
