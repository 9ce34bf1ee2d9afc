import type {CopyReport, CopySummary} from '../services/copy/copy.js'
import type {ObjectOutcome} from '../services/copy/copy-object.js'
import {formatBytes} from './reporter.js'

/** Outcomes that are failures: printed even with --quiet or --json. */
export function isProblem(outcome: ObjectOutcome): boolean {
  return outcome.action === 'conflict' || outcome.action === 'failed' || outcome.action === 'refused'
}

/** The one line an object gets on stderr, as `copied SOURCE → DESTINATION (2.0 MiB, server-side)`. */
export function describeObject(outcome: ObjectOutcome): string {
  const route = `${outcome.source} → ${outcome.destination}`
  const size = formatBytes(outcome.bytes)
  switch (outcome.action) {
    case 'copied': {
      return `copied ${route} (${size}, ${outcome.method}, verified by ${outcome.checkedBy?.join(', ')})`
    }
    case 'skipped': {
      return `skipped ${route} (identical: ${outcome.checkedBy?.join(', ')})`
    }
    case 'would-copy': {
      return `would copy ${route} (${size}${outcome.reason ? `, ${outcome.reason}` : ''})`
    }
    case 'held': {
      return `held ${route}: ${outcome.reason}`
    }
    case 'refused': {
      return `refused ${outcome.source}: unsafe object name (${outcome.reason}): never read or written`
    }
    default: {
      return `${outcome.action} ${route}: ${outcome.error?.message}`
    }
  }
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`
}

/** The closing line: counts, bytes moved and time, as in `copy-public-builds: 12 copied, 3 skipped, …`. */
export function describeSummary(summary: CopySummary, dryRun: boolean): string {
  const parts = dryRun ? [`${summary.wouldCopy} would be copied`] : [`${summary.copied} copied`]
  parts.push(`${summary.skipped} skipped`, plural(summary.conflicts, 'conflict'), `${summary.failed} failed`)
  if (summary.held > 0) parts.push(`${summary.held} held back`)
  if (summary.refused > 0) parts.push(`${summary.refused} refused`)
  const moved = dryRun ? 'nothing written' : `${formatBytes(summary.bytesCopied)} copied`
  return `${dryRun ? 'copy-public-builds (dry run)' : 'copy-public-builds'}: ${parts.join(', ')}; ${moved} in ${summary.seconds.toFixed(1)} s`
}

/**
 * The one error line a failed run ends with, naming what to do next. The
 * per-object lines above it say which objects and why.
 */
export function describeFailure(report: CopyReport): string {
  const {summary} = report
  const integrity = report.objects.filter((o) => o.error?.kind === 'integrity').length
  if (summary.exitCode === 3 && integrity > 0) {
    return `${plural(integrity, 'object')} failed an integrity check and ${integrity === 1 ? 'was' : 'were'} not copied: fix the source, then run again`
  }
  if (summary.exitCode === 5 && summary.conflicts > 0) {
    return `${plural(summary.conflicts, 'object')} at the destination ${summary.conflicts === 1 ? 'holds' : 'hold'} different content and ${summary.conflicts === 1 ? 'was' : 'were'} left untouched: rerun with --force to overwrite`
  }
  const listings = report.errors.map((error) => `listing ${error.artifact} failed`)
  const objects = summary.failed + summary.conflicts
  const failures = [...listings, ...(objects > 0 ? [`${plural(objects, 'object')} could not be copied`] : [])]
  return `${failures.join('; ')}: see the errors above, then run again`
}

/** Failures of whole artifacts (a listing that failed), one line each. */
export function describeArtifactErrors(report: CopyReport): string[] {
  return report.errors.map((error) => `failed ${error.artifact}: ${error.message}`)
}
