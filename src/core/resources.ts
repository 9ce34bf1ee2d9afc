/**
 * Process-wide resources (pooled connections) that must be released before
 * the process can exit promptly. Whoever creates one registers its release
 * here; the service runner (services/runner.ts) is the one owner that
 * releases them all when a command's work ends.
 */
const releases = new Set<() => Promise<void>>()

export function onRelease(release: () => Promise<void>): void {
  releases.add(release)
}

export async function releaseAll(): Promise<void> {
  const pending = [...releases]
  releases.clear()
  await Promise.allSettled(pending.map((release) => release()))
}
