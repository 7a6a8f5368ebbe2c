/** The per-item error shape a job's results carry. */
import { GatewayError } from '../errors';

/** Why one item of a job has no result; the fields of the gateway's error body. */
export interface ItemError {
  type: string;
  code: string;
  message: string;
  /** The item's field at fault, as a single request's error names it. */
  param?: string;
  details?: Record<string, unknown>;
}

/** The item error for what a GatewayError would have told a single request. */
export function itemErrorOf(err: GatewayError): ItemError {
  return {
    type: err.type,
    code: err.code,
    message: err.message,
    ...(err.param ? { param: err.param } : {}),
    ...(err.details ? { details: err.details } : {}),
  };
}

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
