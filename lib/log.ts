/**
 * Structured JSON logs, one object per line, for Workers Logs and Logpush. Fields whose names look
 * like credentials are redacted, and known secret values are masked wherever they appear (an
 * upstream error message that echoes a key, say), so a careless log line cannot leak one.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
  /** Whether a line at `level` is written: a caller skips building one that would be dropped. */
  enabled(level: LogLevel): boolean;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_NAME = /authorization|api[-_]?key|token|secret|password|cookie/i;
const REDACTED = '[redacted]';

function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // A loop, not fromEntries(entries().map()): every request's log line passes here.
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) copy[k] = SECRET_NAME.test(k) ? REDACTED : redact(v, depth + 1);
  return copy;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. @default 'info' */
  level?: LogLevel;
  /** Added to every line. */
  fields?: LogFields;
  /** Values masked wherever they appear in a line (shorter than 8 characters are ignored). */
  secrets?: string[];
  /** Where a finished line goes. @default console.log / console.warn / console.error by level */
  sink?: (level: LogLevel, line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return new JsonLogger(options);
}

/** Secrets worth masking, per list: a request's loggers share its env's one list. */
const maskable = new WeakMap<string[], string[]>();
/** One list for every logger given none, so its masks are looked up, not filtered again per request. */
const NO_SECRETS: string[] = [];

// A class, not an object of closures: every request builds a logger or two.
class JsonLogger implements Logger {
  readonly #options: LoggerOptions;
  readonly #rank: number;
  readonly #secrets: string[];

  constructor(options: LoggerOptions) {
    this.#options = options;
    this.#rank = RANK[options.level ?? 'info'];
    const secrets = options.secrets ?? NO_SECRETS;
    let masked = maskable.get(secrets);
    if (!masked) {
      masked = secrets.filter((s) => s.length >= 8);
      maskable.set(secrets, masked);
    }
    this.#secrets = masked;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write('error', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger({ ...this.#options, fields: { ...this.#options.fields, ...fields } });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#rank;
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (RANK[level] < this.#rank) return;
    let line = JSON.stringify(
      redact({ level, msg, time: new Date().toISOString(), ...this.#options.fields, ...fields }),
    );
    for (const secret of this.#secrets) line = line.replaceAll(secret, REDACTED);
    (this.#options.sink ?? defaultSink)(level, line);
  }
}

function defaultSink(level: LogLevel, line: string): void {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
