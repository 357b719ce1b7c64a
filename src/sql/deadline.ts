/**
 * The work, or `expire()`'s error once `ms` have passed, whichever comes first. expire runs at
 * most once, when the deadline wins: it discards what the work was using (a connection that
 * never answers must not go back to a pool). A late failure of abandoned work is swallowed.
 */
export async function withDeadline<T>(ms: number, work: Promise<T>, expire: () => Error): Promise<T> {
  work.catch(() => undefined);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expire()), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
