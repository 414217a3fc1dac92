/** An item of an {@link ExpiryHeap}: ordered by `expiresAtMs`, then by `seq` (older first). */
export interface HeapItem {
  expiresAtMs: number;
  /** Insertion order, for ties: among entries expiring together the oldest goes first. */
  readonly seq: number;
  /** Position in the heap's array; maintained by the heap, -1 when not in it. */
  index: number;
}

/**
 * A binary min-heap with positions, so that any item can be removed in O(log n): the eviction and
 * expiry order of the in-process store (the session cache has the same heap in `CacheEntry.Heap`,
 * over the private fields of its entries, which must not show on the lookup answers they also
 * are). Hand-written because it must remove arbitrary items by position, which the heap packages
 * on npm do not offer in O(log n). A sorted list would be O(1) when every session has the same
 * lifetime, but O(n) per insert when lifetimes differ (a session from another process, with an
 * older creation time, lands far from the tail) — the heap is O(log n) either way.
 */
export class ExpiryHeap<T extends HeapItem> {
  #items: T[] = [];

  /** How many items it holds. */
  get size(): number {
    return this.#items.length;
  }

  /** The item that expires first (the oldest among equals), or `undefined`. */
  peek(): T | undefined {
    return this.#items[0];
  }

  /** Adds an item that is not in the heap. */
  push(item: T): void {
    item.index = this.#items.length;
    this.#items.push(item);
    this.#up(item.index);
  }

  /** Removes an item that is in the heap. */
  remove(item: T): void {
    const items = this.#items;
    const i = item.index;
    const last = items.pop()!;
    item.index = -1;
    if (last === item) return;
    items[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  /** The items in order, soonest first (a sorted copy: O(n log n), for listing, not the hot path). */
  sorted(): T[] {
    return [...this.#items].sort((a, b) => (this.#less(a, b) ? -1 : this.#less(b, a) ? 1 : 0));
  }

  /** Removes every item. */
  clear(): void {
    for (const item of this.#items) item.index = -1;
    this.#items = [];
  }

  #less(a: T, b: T): boolean {
    return a.expiresAtMs < b.expiresAtMs || (a.expiresAtMs === b.expiresAtMs && a.seq < b.seq);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.#less(item, parent)) break;
      items[i] = parent;
      parent.index = i;
      i = parentIndex;
    }
    items[i] = item;
    item.index = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && this.#less(items[right]!, items[left]!) ? right : left;
      const smallest = items[child]!;
      if (!this.#less(smallest, item)) break;
      items[i] = smallest;
      smallest.index = i;
      i = child;
    }
    items[i] = item;
    item.index = i;
  }
}
