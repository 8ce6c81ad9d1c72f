/**
 * The decoded spans of open windows, kept from their arrival to their close, so that a
 * closing window is neither read back from the store nor decoded a second time, and a
 * span's re-send check needs no store read.
 *
 * The store keeps every span's raw bytes and stays the source of truth: a window is held
 * here only if it was from its first span on, within a budget of spans over all windows.
 * A window opened past the budget, reopened with spans held from before (a late span), or
 * changed by something this does not follow (a session reset, a record rolled back) is
 * simply not held, and its close reads the store as before.
 */
import type { CanonicalSpan } from '../../model/span.js';

interface HeldSpan {
  readonly span: CanonicalSpan;
  /** Size of the raw record value, for the window's byte count. */
  readonly bytes: number;
  /** The span's store key as a latin1 string: sorting by it gives the store's order. */
  readonly order: string;
}

export class DecodedSpans {
  /** trace ref (latin1) → the window's spans by span id. */
  private readonly windows = new Map<string, Map<string, HeldSpan>>();
  private held = 0;

  constructor(private readonly budget: number) {}

  /** Starts holding a window that holds no span yet, if the budget allows. */
  open(ref: Buffer): void {
    const key = ref.toString('latin1');
    this.drop(ref);
    if (this.held < this.budget) this.windows.set(key, new Map());
  }

  /** Whether every span of the window is held here. */
  holds(ref: Buffer): boolean {
    return this.windows.has(ref.toString('latin1'));
  }

  /** The held copy of a span of a held window; undefined when the window holds none of that id. */
  get(ref: Buffer, spanId: string): { readonly span: CanonicalSpan; readonly bytes: number } | undefined {
    return this.windows.get(ref.toString('latin1'))?.get(spanId);
  }

  /** Adds or replaces a span of a held window; past the budget the window is let go. */
  add(ref: Buffer, spanId: string, span: CanonicalSpan, bytes: number, storeKey: Buffer): void {
    const spans = this.windows.get(ref.toString('latin1'));
    if (spans === undefined) return;
    if (!spans.has(spanId)) {
      if (this.held >= this.budget) {
        this.drop(ref);
        return;
      }
      this.held++;
    }
    spans.set(spanId, { span, bytes, order: storeKey.toString('latin1') });
  }

  /**
   * The window's spans in store order, if all `spanCount` of them are held; null means
   * read them from the store.
   */
  spansOf(ref: Buffer, spanCount: number): CanonicalSpan[] | null {
    const spans = this.windows.get(ref.toString('latin1'));
    if (spans === undefined || spans.size !== spanCount) return null;
    return [...spans.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0)).map((held) => held.span);
  }

  drop(ref: Buffer): void {
    const key = ref.toString('latin1');
    const spans = this.windows.get(key);
    if (spans === undefined) return;
    this.held -= spans.size;
    this.windows.delete(key);
  }

  clear(): void {
    this.windows.clear();
    this.held = 0;
  }
}
