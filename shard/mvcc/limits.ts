// The bounds of one shard's state machine, in one place (TIGER_STYLE: name every limit, units last).
// Size limits are checked by the proposer (validateCommand); eventsRetainedMax and
// leaseTtlMinSeconds shape what apply writes, so every replica of a shard must use the same values.

export interface MvccLimits {
  /** The longest key a put may carry. */
  readonly keyBytesMax: number;
  /** The longest value a put may carry. */
  readonly valueBytesMax: number;
  /** Compares, success ops and failure ops of one txn level, each (etcd's --max-txn-ops). */
  readonly txnOpsMax: number;
  /** Watch events kept; older ones are trimmed at apply and compactRevision moves past them. */
  readonly eventsRetainedMax: number;
  /** A lease granted with a shorter TTL gets this one (etcd's minimum lease TTL). */
  readonly leaseTtlMinSeconds: number;
}

export const MVCC_DEFAULTS: MvccLimits = Object.freeze({
  keyBytesMax: 4096,
  valueBytesMax: 1024 * 1024,
  txnOpsMax: 128,
  eventsRetainedMax: 100_000,
  leaseTtlMinSeconds: 2,
});

/** etcd's MaxLeaseTTL: 9,000,000,000 seconds (lease/lessor.go). */
export const LEASE_TTL_SECONDS_MAX = 9_000_000_000;

export function resolveLimits(partial: Partial<MvccLimits> | undefined): MvccLimits {
  const limits: MvccLimits = { ...MVCC_DEFAULTS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new RangeError(`MvccLimits.${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return limits;
}
