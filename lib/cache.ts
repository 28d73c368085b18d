/** A value made once per execution environment, kept in module scope across warm invocations. */
export interface Cached<T> {
  (): T;
  /** Forgets the value, for tests that change what it is made from. */
  reset(): void;
}

/**
 * Makes the value at its first use and keeps it. A failure is never kept: a `make` that throws, or
 * returns a promise that rejects, is called again at the next use, so one bad cold start (a secret not
 * yet readable, a routes file being fixed) does not poison the execution environment for good.
 */
export const cached = <T>(make: () => T): Cached<T> => {
  let held: { readonly value: T } | undefined;
  const get = (): T => {
    if (held === undefined) {
      const entry = { value: make() };
      held = entry;
      if (entry.value instanceof Promise) {
        entry.value.catch(() => {
          if (held === entry) held = undefined;
        });
      }
    }
    return held.value;
  };
  return Object.assign(get, {
    reset: () => {
      held = undefined;
    },
  });
};
