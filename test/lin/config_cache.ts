/**
 * The memo of configurations the search has explored (Lowe, "Testing for linearizability", 2017;
 * Porcupine's cache). A configuration is a key (the register state and the set of linearized
 * definite operations, encoded by the search as a few integers) plus the set of unknown-outcome
 * operations already linearized. Records live in one growing Int32Array, not in objects, so that a
 * million of them cost tens of megabytes. It never evicts: forgetting would only cost time, but a
 * false "seen" would hide a linearization, so lookups compare whole keys, never just hashes.
 */

/** Record layout in the pool: [next record + 1, hash, key length, ...key, ...unknown-set words]. */
const NEXT = 0;
const HASH = 1;
const KEY_LENGTH = 2;
const HEADER_INTS = 3;
const BUCKETS_INITIAL = 1 << 10;
const POOL_INTS_INITIAL = 1 << 14;

export class ConfigCache {
  private pool = new Int32Array(POOL_INTS_INITIAL);
  private poolInts = 0;
  /** Bucket -> first record offset + 1 (0 = empty); chains run through the records' NEXT field. */
  private buckets = new Int32Array(BUCKETS_INITIAL);
  private recordCount = 0;

  /** @param unknownWords words in every unknown-set bitset the search passes in (0 if none). */
  constructor(private readonly unknownWords: number) {}

  get size(): number {
    return this.recordCount;
  }

  /**
   * Records the configuration and returns true, unless the cache holds one with the same key and a
   * subset of its unknown operations: that one had every option this one has (an unknown op left
   * pending may still be linearized later, or never), so exploring this one cannot succeed where
   * that one failed, and it returns false.
   */
  insertIfNew(key: Int32Array, keyLength: number, unknown: Uint32Array): boolean {
    const hash = hashInts(key, keyLength);
    for (let at = this.buckets[hash & (this.buckets.length - 1)] ?? 0; at !== 0; ) {
      const record = at - 1;
      if (this.matches(record, hash, key, keyLength) && this.isSubsetOf(record, keyLength, unknown)) return false;
      at = this.pool[record + NEXT] ?? 0;
    }
    this.append(hash, key, keyLength, unknown);
    return true;
  }

  private matches(record: number, hash: number, key: Int32Array, keyLength: number): boolean {
    const pool = this.pool;
    if (pool[record + HASH] !== hash || pool[record + KEY_LENGTH] !== keyLength) return false;
    for (let i = 0; i < keyLength; i++) {
      if (pool[record + HEADER_INTS + i] !== key[i]) return false;
    }
    return true;
  }

  private isSubsetOf(record: number, keyLength: number, unknown: Uint32Array): boolean {
    const start = record + HEADER_INTS + keyLength;
    for (let word = 0; word < this.unknownWords; word++) {
      if (((this.pool[start + word] ?? 0) & ~(unknown[word] ?? 0)) !== 0) return false;
    }
    return true;
  }

  private append(hash: number, key: Int32Array, keyLength: number, unknown: Uint32Array): void {
    const recordInts = HEADER_INTS + keyLength + this.unknownWords;
    this.ensurePoolInts(this.poolInts + recordInts);
    const record = this.poolInts;
    const pool = this.pool;
    pool[record + HASH] = hash;
    pool[record + KEY_LENGTH] = keyLength;
    pool.set(key.subarray(0, keyLength), record + HEADER_INTS);
    for (let word = 0; word < this.unknownWords; word++) {
      pool[record + HEADER_INTS + keyLength + word] = unknown[word] ?? 0;
    }
    this.poolInts += recordInts;
    this.recordCount++;
    // Keep chains short: about one record per bucket on average.
    if (this.recordCount > this.buckets.length) this.rehash(this.buckets.length * 2);
    else this.link(record);
  }

  private link(record: number): void {
    const bucket = (this.pool[record + HASH] ?? 0) & (this.buckets.length - 1);
    this.pool[record + NEXT] = this.buckets[bucket] ?? 0;
    this.buckets[bucket] = record + 1;
  }

  private rehash(bucketCount: number): void {
    this.buckets = new Int32Array(bucketCount);
    for (let record = 0; record < this.poolInts; ) {
      this.link(record);
      record += HEADER_INTS + (this.pool[record + KEY_LENGTH] ?? 0) + this.unknownWords;
    }
  }

  private ensurePoolInts(ints: number): void {
    if (ints <= this.pool.length) return;
    let length = this.pool.length * 2;
    while (length < ints) length *= 2;
    const grown = new Int32Array(length);
    grown.set(this.pool.subarray(0, this.poolInts));
    this.pool = grown;
  }
}

/** A 32-bit hash of the first `length` ints (multiply-xorshift mixing, murmur3's finalizer at the end). */
function hashInts(ints: Int32Array, length: number): number {
  let hash = 0x811c9dc5 ^ length;
  for (let i = 0; i < length; i++) {
    hash = Math.imul(hash ^ (ints[i] ?? 0), 0x9e3779b1);
    hash ^= hash >>> 15;
  }
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) | 0;
}
