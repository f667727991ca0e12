// Counting wrappers for the "idle node costs nothing" tests: every method
// call on the wrapped object is recorded by name, nothing else changes.
export interface Counted<T> {
  target: T;
  /** Method names, in call order. */
  calls: string[];
}

export function counting<T extends object>(inner: T, only?: ReadonlySet<string>): Counted<T> {
  const calls: string[] = [];
  const target = new Proxy(inner, {
    get(obj, prop, receiver) {
      const v: unknown = Reflect.get(obj, prop, receiver);
      if (typeof v !== 'function' || typeof prop !== 'string' || (only && !only.has(prop))) return v;
      return (...args: unknown[]) => {
        calls.push(prop);
        return (v as (...a: unknown[]) => unknown).apply(obj, args);
      };
    },
  });
  return { target, calls };
}
