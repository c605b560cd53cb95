// A binary heap, for the greedy and ordering loops that must stay near-linear on large
// matrices and legacy configs.

/** Items in a binary heap: pop gives the greatest by `compare` (a positive result: a is greater). */
export class Heap<T> {
  private readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  push(item: T): void {
    const items = this.items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.compare(items[i]!, items[parent]!) <= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let largest = i;
      if (left < items.length && this.compare(items[left]!, items[largest]!) > 0) largest = left;
      if (right < items.length && this.compare(items[right]!, items[largest]!) > 0) largest = right;
      if (largest === i) break;
      [items[i], items[largest]] = [items[largest]!, items[i]!];
      i = largest;
    }
    return top;
  }
}
