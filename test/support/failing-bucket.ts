import { env } from 'cloudflare:workers';
import type { ImageBucket } from '../../lib/image-store';

/** What R2's binding throws for a call it failed (seen in production: nodejs/release-cloudflare-worker#916). */
export const R2_INTERNAL_ERROR = 'InternalError: We encountered an internal error. Please try again.';

/**
 * The test bucket (miniflare's R2) whose first `failures[op]` calls of each operation throw as R2 does,
 * counting every call made: a fault injected in front of the real bucket, which then answers.
 */
export function failingBucket(failures: Partial<Record<'head' | 'get' | 'put', number>>) {
  const calls = { head: 0, get: 0, put: 0 };
  const attempt = <T>(op: keyof typeof calls, call: () => Promise<T>): Promise<T> => {
    calls[op] += 1;
    if (calls[op] <= (failures[op] ?? 0)) return Promise.reject(new Error(R2_INTERNAL_ERROR));
    return call();
  };
  const bucket = {
    head: (key: string) => attempt('head', () => env.IMAGES.head(key)),
    get: (key: string) => attempt('get', () => env.IMAGES.get(key)),
    put: (key: string, value: Parameters<R2Bucket['put']>[1], options?: R2PutOptions) =>
      attempt('put', () => env.IMAGES.put(key, value, options)),
  } as ImageBucket;
  return { bucket, calls };
}
