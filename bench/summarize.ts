/**
 * Turns the raw results of bench/fetch.sh into the table it prints: medians
 * from hyperfine's JSON, the ratios of medians between commands of one
 * hyperfine run, and PASS or MISS against the targets of the fetch and
 * start-up issues. A case repeated ({case}-N.json) shows the median of its
 * runs' ratios, which the target judges, and their range. Also writes
 * summary.json next to the raw files.
 *
 * usage: node --import tsx bench/summarize.ts RESULTS_DIR
 */
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {median, megabytes} from './stats.js'

interface HyperfineResult {
  command: string
  median: number
  times: number[]
}

/** hyperfine's command names (fetch.sh's -n) and how the table shows them. */
const LABELS: Record<string, string> = {locked: 'tool, with a lock', node: 'node -e 0', script: 'fetch-busybox.sh', today: 'today (14ba606)', tool: 'tool'}

interface Comparison {
  name: string
  /** The command measured, and the one it is divided by, both from the case's one hyperfine run. */
  command: string
  baseline: string
  /** The largest acceptable ratio of medians; undefined for a row that is only information. */
  maxRatio?: number
}

const COMPARISONS: readonly Comparison[] = [
  {baseline: 'node', command: 'tool', maxRatio: 1.55, name: 'noop'},
  {baseline: 'today', command: 'tool', name: 'noop'},
  {baseline: 'node', command: 'today', name: 'noop'},
  // Reading the lock must keep the no-op fetch within the same target (both sides run in the lock's directory).
  {baseline: 'node', command: 'locked', maxRatio: 1.55, name: 'noop-locked'},
  {baseline: 'tool', command: 'locked', name: 'noop-locked'},
  {baseline: 'today', command: 'tool', maxRatio: 0.8, name: 'cold-small'},
  {baseline: 'script', command: 'tool', maxRatio: 1.5, name: 'cold-small'},
  {baseline: 'today', command: 'tool', maxRatio: 0.7, name: 'cold-small-nodelay'},
  {baseline: 'script', command: 'tool', name: 'cold-small-nodelay'},
  // "Unchanged within noise": the 512 MB fetch is bound by hashing and disk, not start-up.
  {baseline: 'today', command: 'tool', maxRatio: 1.1, name: 'cold-large'},
  {baseline: 'script', command: 'tool', maxRatio: 0.9, name: 'cold-large'},
]

/** Decimal megabytes, the stricter reading of "150 MB". */
const MAX_RSS_MB = 150
/** Peak RSS against today's build: unchanged within noise. */
const MAX_RSS_RATIO = 1.1

/** Peak RSS samples in KiB, as GNU time's %M reports them. */
interface RssSamples {
  tool: number[]
  today: number[]
  script: number[]
}

function seconds(value: number): string {
  return value >= 1 ? `${value.toFixed(2)} s` : `${(value * 1000).toFixed(1)} ms`
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T
}

/** The case's hyperfine runs: {case}.json, or {case}-1.json, {case}-2.json, ... */
function caseFiles(dir: string, name: string): string[] {
  const pattern = new RegExp(`^${name}(-\\d+)?\\.json$`)
  return readdirSync(dir)
    .filter((file) => pattern.test(file))
    .sort()
    .map((file) => path.join(dir, file))
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

function rssCell(samples: readonly number[]): string {
  return `${megabytes(median(samples)).toFixed(1)} MB (max ${megabytes(Math.max(...samples)).toFixed(1)})`
}

function main(dir: string): void {
  const rows: string[][] = [['case', 'command', 'median', 'vs', 'median', 'ratio', 'target', 'result']]
  const summary: Record<string, unknown[]> = {}
  let misses = 0

  for (const spec of COMPARISONS) {
    const files = caseFiles(dir, spec.name)
    if (files.length === 0) continue
    const runs = files.map((file) => {
      const {results} = readJson<{results: HyperfineResult[]}>(file)
      const command = findResult(results, spec.command, file)
      const baseline = findResult(results, spec.baseline, file)
      return {baselineMedianS: baseline.median, file: path.basename(file), medianS: command.median, ratio: command.median / baseline.median, runs: command.times.length}
    })
    const ratios = runs.map((run) => run.ratio)
    const ratio = median(ratios)
    const pass = spec.maxRatio === undefined ? undefined : ratio <= spec.maxRatio
    if (pass === false) misses++
    const spread = runs.length > 1 ? ` (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})` : ''
    rows.push([
      spec.name,
      LABELS[spec.command]!,
      seconds(median(runs.map((run) => run.medianS))),
      LABELS[spec.baseline]!,
      seconds(median(runs.map((run) => run.baselineMedianS))),
      `${ratio.toFixed(2)}x${spread}`,
      spec.maxRatio === undefined ? '-' : `<= ${spec.maxRatio.toFixed(2)}x`,
      pass === undefined ? '-' : pass ? 'PASS' : 'MISS',
    ])
    ;(summary[spec.name] ??= []).push({baseline: spec.baseline, command: spec.command, maxRatio: spec.maxRatio, pass, ratio, runs})
  }

  const rssFile = path.join(dir, 'cold-large-rss.json')
  if (existsSync(rssFile)) {
    const rss = readJson<RssSamples>(rssFile)
    const toolMax = megabytes(Math.max(...rss.tool))
    const ratio = median(rss.tool) / median(rss.today)
    const passToday = ratio <= MAX_RSS_RATIO
    const passMax = toolMax <= MAX_RSS_MB
    misses += Number(!passToday) + Number(!passMax)
    rows.push(
      ['cold-large RSS', 'tool', rssCell(rss.tool), LABELS.today!, rssCell(rss.today), `${ratio.toFixed(2)}x`, `<= ${MAX_RSS_RATIO.toFixed(2)}x`, passToday ? 'PASS' : 'MISS'],
      ['cold-large RSS', 'tool', rssCell(rss.tool), LABELS.script!, rssCell(rss.script), '-', `max <= ${MAX_RSS_MB} MB`, passMax ? 'PASS' : 'MISS'],
    )
    summary['cold-large-rss'] = [
      {
        maxMb: MAX_RSS_MB,
        maxRatioToToday: MAX_RSS_RATIO,
        pass: passToday && passMax,
        ratioToToday: ratio,
        scriptMb: rss.script.map(megabytes),
        todayMb: rss.today.map(megabytes),
        toolMb: rss.tool.map(megabytes),
      },
    ]
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
