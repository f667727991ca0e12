// `fn` over `items` with at most `limit` calls in flight; results in the
// order of `items`. Starting thousands of I/O operations at once (a cold
// read of every blob, an inspect of every container) holds a native buffer,
// file handle or request per operation at the same time, and the memory
// the allocator took for that peak is not given back.
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
