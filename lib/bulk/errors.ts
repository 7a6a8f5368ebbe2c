/** The per-item error a job's results carry when a check refuses an item. */
import { GatewayError, type ItemError, itemErrorOf } from '../errors';

export { type ItemError, itemErrorOf };

/** The item error a refusing check throws (as the single endpoint's 400 or 422 would); null when it passes. */
export function refusalOf(check: () => void): ItemError | null {
  try {
    check();
    return null;
  } catch (err) {
    if (err instanceof GatewayError) return itemErrorOf(err);
    throw err;
  }
}
