import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {planCopies} from '../../src/services/copy/plan.js'
import type {ObjectInfo} from '../../src/stores/store.js'

function object(key: string, size: number): ObjectInfo {
  return {key, size}
}

describe('planCopies', () => {
  it('pairs every object with its sidecar, whatever the layout, and keeps orphan sidecars as plain objects', () => {
    const plan = planCopies([
      object('1.36.1/amd64/busybox.sha256', 80),
      object('1.36.1/amd64/busybox', 2000),
      object('vmlinux-6.1/vmlinux.bin', 9000),
      object('vmlinux-6.1/vmlinux.bin.sha256', 90),
      object('1.36.1/arm64/busybox.sha256', 80),
      object('README', 10),
    ])
    assert.deepEqual(
      plan.units.map((unit) => [unit.object.key, unit.sidecar?.key]),
      [
        ['vmlinux-6.1/vmlinux.bin', 'vmlinux-6.1/vmlinux.bin.sha256'],
        ['1.36.1/amd64/busybox', '1.36.1/amd64/busybox.sha256'],
        ['1.36.1/arm64/busybox.sha256', undefined],
        ['README', undefined],
      ],
    )
    assert.deepEqual(plan.orphanSidecars, ['1.36.1/arm64/busybox.sha256'])
  })

  it('orders the largest objects first, ties by key, and counts a key listed twice once', () => {
    const plan = planCopies([object('b', 1), object('a', 1), object('c', 3), object('a', 1)])
    assert.deepEqual(
      plan.units.map((unit) => unit.object.key),
      ['c', 'a', 'b'],
    )
  })
})
