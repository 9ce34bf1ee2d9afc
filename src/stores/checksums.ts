const SHA256_HEX = /^[0-9a-f]{64}$/

/** Cloud APIs carry digests in base64; the tool speaks lowercase hex (as `sha256sum` does). */
export function hexToBase64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64')
}

export function base64ToHex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex')
}

/** A `sha256` metadata value as stored by anyone: accepted only when it is 64 hex digits, returned lowercase. */
export function sha256FromMetadata(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  const hex = value.trim().toLowerCase()
  return SHA256_HEX.test(hex) ? hex : undefined
}

/** A base64 SHA-256 checksum as S3 reports it, as hex; undefined unless it is a whole 32-byte digest. */
export function sha256FromBase64(value: string | undefined): string | undefined {
  if (!value || !/^[A-Za-z0-9+/]{43}=$/.test(value)) return undefined
  return base64ToHex(value)
}
