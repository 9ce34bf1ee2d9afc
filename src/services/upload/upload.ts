import type {Arch} from '../../core/catalog.js'
import {combineFailures} from '../../core/failures.js'
import {binaryKey, joinKey} from '../../core/keys.js'
import {artifactRoot} from '../../core/location.js'
import {discard} from '../../core/temp-files.js'
import type {BinaryFacts} from '../../integrity/binary-checks.js'
import {openStore} from '../../stores/open-store.js'
import type {Store} from '../../stores/store.js'
import {runService} from '../runner.js'
import {type StagedRelease, type VerifiedBinary, verifyReleaseBinary} from '../shared/release-binary.js'
import {type ReleaseSource, openReleaseSource} from '../shared/release-source.js'
import {type PublishItem, type PublishPlan, executePlan, planPublish} from './publish.js'
import type {UploadRequest} from './request.js'

export type {VerifiedBinary}

export type UploadStatus = 'published' | 'already-published' | 'would-publish'

export interface ArchResult extends VerifiedBinary {
  readonly status: UploadStatus
  /** Key of the binary relative to the destination location, e.g. `busybox/1.36.1/amd64/busybox`. */
  readonly key: string
  /** The binary's full destination, safe to print. */
  readonly destination: string
  /** Keys written (or, with --dry-run, that would be), binary first. */
  readonly writes: readonly string[]
  /** Whether the writes replaced different content (only with --force). */
  readonly replaced: boolean
}

export interface UploadResult {
  readonly artifact: string
  readonly version: string
  readonly source: string
  readonly destination: string
  readonly dryRun: boolean
  readonly arches: readonly ArchResult[]
}

export interface UploadEvents {
  onRetry?(message: string): void
  onWarning?(message: string): void
  onVerified?(binary: VerifiedBinary): void
  onDone?(result: ArchResult): void
}

interface Staged extends StagedRelease {
  readonly md5: string
}

function facts(request: UploadRequest, arch: Arch): BinaryFacts {
  return {arch, artifact: request.artifact, version: request.version}
}

/** Stage (hashing on the way), check digests, check the ELF and version, run it (services/shared/release-binary). The temp file is removed on failure. */
async function stageAndVerify(source: ReleaseSource, request: UploadRequest, arch: Arch, events: UploadEvents): Promise<Staged> {
  const binary = await source.locate(arch)
  const verified = await verifyReleaseBinary(binary, {
    arch,
    consequence: 'not published',
    facts: facts(request, arch),
    label: `e2b-artifacts-upload-${request.artifact.name}-${request.version}-${arch}`,
    md5: true,
    onRetry: events.onRetry,
    onUnvouched: (file) =>
      events.onWarning?.(
        `${binary.where} has no ${request.artifact.file}.sha256 next to it: nothing independent vouches for its digest, so the published sidecar records the sha256 computed here (${file.sha256})`,
      ),
    onWarning: events.onWarning,
  })
  const {md5} = verified.file
  if (md5 === undefined) throw new Error('staging computed no MD5 although upload asked for one')
  return {...verified, md5}
}

/** Every arch is staged and verified before anything is published, so a bad arm64 never leaves a half release. */
async function verifyAll(source: ReleaseSource, request: UploadRequest, events: UploadEvents, staged: Staged[]): Promise<void> {
  const settled = await Promise.allSettled(request.arches.map((arch) => stageAndVerify(source, request, arch, events)))
  const failures: unknown[] = []
  // Reported in arch order once all are done, so logs read the same on every run.
  for (const outcome of settled) {
    if (outcome.status === 'fulfilled') {
      staged.push(outcome.value)
      events.onVerified?.(outcome.value)
    } else {
      failures.push(outcome.reason)
    }
  }
  if (failures.length === 0) return
  if (staged.length > 0) {
    events.onWarning?.(`${staged.map((s) => s.arch).join(', ')} passed its checks but is held back: nothing is published unless every arch passes`)
  }
  throw combineFailures(failures, `${failures.length} of ${request.arches.length} arches failed verification; nothing was published`)
}

function itemFor(request: UploadRequest, binary: Staged): PublishItem {
  return {
    fileName: request.artifact.file,
    key: binaryKey(request.artifact, request.version, binary.arch),
    md5: binary.md5,
    path: binary.file.path,
    sha256: binary.sha256,
    size: binary.size,
  }
}

/** Looks at every destination before writing any, so a conflict on one arch writes nothing for any arch. */
async function planAll(store: Store, request: UploadRequest, staged: readonly Staged[]): Promise<PublishPlan[]> {
  const settled = await Promise.allSettled(staged.map((binary) => planPublish(store, itemFor(request, binary), request.force)))
  const failures = settled.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []))
  if (failures.length > 0) throw combineFailures(failures, `${failures.length} of ${staged.length} destinations cannot be published; nothing was written`)
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<PublishPlan>).value)
}

function statusOf(plan: PublishPlan, dryRun: boolean): UploadStatus {
  if (plan.writes.length === 0) return 'already-published'
  return dryRun ? 'would-publish' : 'published'
}

/**
 * `upload`: stage and verify every requested arch of a release, then publish
 * each binary and its sidecar to the destination with an only-if-absent
 * precondition, and read them back. Temp files are removed on every path.
 */
export function upload(request: UploadRequest, events: UploadEvents = {}): Promise<UploadResult> {
  return runService(() => publishRelease(request, events))
}

async function publishRelease(request: UploadRequest, events: UploadEvents): Promise<UploadResult> {
  const source = await openReleaseSource(request.from, request, {onRetry: events.onRetry})
  const staged: Staged[] = []
  try {
    await verifyAll(source, request, events, staged)
    const root = artifactRoot(request.to, request.artifact, request.layout)
    const store = await openStore(request.to, root)
    try {
      const plans = await planAll(store, request, staged)
      const arches: ArchResult[] = []
      for (const [index, binary] of staged.entries()) {
        const plan = plans[index]!
        const item = itemFor(request, binary)
        if (!request.dryRun) await executePlan(store, item, plan, request.force)
        const {file: _file, md5: _md5, ...verified} = binary
        const result: ArchResult = {
          ...verified,
          destination: `${store.display}/${item.key}`,
          key: joinKey(root, item.key),
          replaced: plan.replaces,
          status: statusOf(plan, request.dryRun),
          writes: plan.writes.map((key) => joinKey(root, key)),
        }
        events.onDone?.(result)
        arches.push(result)
      }
      return {
        arches,
        artifact: request.artifact.name,
        destination: store.display,
        dryRun: request.dryRun,
        source: source.display,
        version: request.version,
      }
    } finally {
      await store.close?.()
    }
  } finally {
    await Promise.allSettled(staged.map((binary) => discard(binary.file.path)))
    await source.close()
  }
}
