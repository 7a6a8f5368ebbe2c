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
  const { level = 'info', fields: base = {}, sink = defaultSink } = options;
  const secrets = (options.secrets ?? []).filter((s) => s.length >= 8);
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < RANK[level]) return;
    let line = JSON.stringify(
      redact({ level: lvl, msg, time: new Date().toISOString(), ...base, ...fields }),
    );
    for (const secret of secrets) line = line.replaceAll(secret, REDACTED);
    sink(lvl, line);
  };
  return {
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

function defaultSink(level: LogLevel, line: string): void {
  if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}
