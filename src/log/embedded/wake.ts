/** Tells consumers of a topic that records became readable, so idle ones need not poll. */
export class WakeSignal {
  private readonly listeners = new Map<string, Set<() => void>>();

  /** Calls `listener` whenever one of `topics` gets records; returns the unsubscribe. */
  subscribe(topics: readonly string[], listener: () => void): () => void {
    for (const topic of topics) {
      let set = this.listeners.get(topic);
      if (set === undefined) this.listeners.set(topic, (set = new Set()));
      set.add(listener);
    }
    return () => {
      for (const topic of topics) this.listeners.get(topic)?.delete(listener);
    };
  }

  notify(topic: string): void {
    for (const listener of this.listeners.get(topic) ?? []) listener();
  }
}
