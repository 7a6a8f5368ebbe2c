/** OpenAI's one error body shape: `{ error: { message, type, param, code } }`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * A request the simulator rejects the way OpenAI would. Route handlers throw it; the server renders it with
 * `errorBody()`.
 */
export class SimHttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;

  constructor(
    status: number,
    message: string,
    options: { type?: string; param?: string; code?: string } = {},
  ) {
    super(message);
    this.name = 'SimHttpError';
    this.status = status;
    this.type = options.type ?? 'invalid_request_error';
    this.param = options.param ?? null;
    this.code = options.code ?? null;
  }

  /** The body OpenAI would send for this error. */
  toBody(): OpenAIErrorBody {
    return errorBody(this.message, this.type, this.param, this.code);
  }
}

/** Builds OpenAI's error body. */
export function errorBody(
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): OpenAIErrorBody {
  return { error: { message, type, param, code } };
}

/** 400 for a missing or mistyped field, worded like OpenAI's. */
export function invalidParam(param: string, message?: string): SimHttpError {
  return new SimHttpError(400, message ?? `Invalid value for '${param}'.`, {
    param,
    code: 'invalid_value',
  });
}

/** 400 `missing_required_parameter`, worded like OpenAI's. */
export function missingParam(param: string): SimHttpError {
  return new SimHttpError(400, `Missing required parameter: '${param}'.`, {
    param,
    code: 'missing_required_parameter',
  });
}
