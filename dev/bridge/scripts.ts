import { createHash } from 'node:crypto';
import type { Reply } from './backend.ts';

/**
 * @upstash/ratelimit ≥ 2.1 starts its scripts with `#!lua flags=allow-key-locking`, an Upstash-only flag
 * that stock Redis rejects ("Unexpected flag in script shebang"). We strip the flag before Redis sees the
 * script and remember `sha1(original) → stripped`, because the client calls EVALSHA with the SHA of the
 * ORIGINAL text (ratelimit hard-codes those SHAs). See reference/upstash-and-workers.md §1.10.
 */

const UPSTASH_ONLY_FLAG = 'allow-key-locking';

/** A command ready for Redis, with what to do around it. */
export interface PreparedCommand {
  /** What to send. */
  command: string[];
  /** Send this instead when Redis answers NOSCRIPT (a mapped EVALSHA whose script Redis forgot). */
  onNoScript?: string[];
  /** Rewrites a successful reply (SCRIPT LOAD answers with the original SHA). */
  mapReply?: (reply: Reply) => Reply;
}

export interface ScriptMap {
  /**
   * Rewrites script commands. With `inTransaction`, a mapped EVALSHA becomes EVAL of the stripped text
   * straight away, since there is no second chance inside MULTI/EXEC.
   */
  prepare(command: string[], options?: { inTransaction?: boolean }): PreparedCommand;
  /** How many scripts are mapped (for tests and logs). */
  readonly size: number;
}

/**
 * Removes `allow-key-locking` from a leading `#!lua` line. Drops the whole line when no other flag is
 * left, keeps it otherwise (`#!lua flags=no-writes`). Returns the script unchanged when there is
 * nothing to strip.
 */
export function stripUpstashFlags(script: string): string {
  if (!script.startsWith('#!lua')) return script;
  const end = script.indexOf('\n');
  const line = (end === -1 ? script : script.slice(0, end)).replace(/\r$/, '');
  const rest = end === -1 ? '' : script.slice(end + 1);
  let stripped = false;
  const parts = line.split(' ').filter(Boolean);
  const kept = parts.flatMap((part) => {
    if (!part.startsWith('flags=')) return [part];
    const flags = part.slice('flags='.length).split(',');
    const remaining = flags.filter((flag) => flag !== UPSTASH_ONLY_FLAG);
    if (remaining.length === flags.length) return [part];
    stripped = true;
    return remaining.length > 0 ? [`flags=${remaining.join(',')}`] : [];
  });
  if (!stripped) return script;
  return kept.length > 1 ? `${kept.join(' ')}\n${rest}` : rest;
}

export function sha1Hex(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

export function createScriptMap(): ScriptMap {
  // sha1(original) → stripped script
  const stripped = new Map<string, string>();

  function remember(script: string): string {
    const result = stripUpstashFlags(script);
    if (result !== script) stripped.set(sha1Hex(script), result);
    return result;
  }

  function prepare(
    [name = '', ...args]: string[],
    options: { inTransaction?: boolean } = {},
  ): PreparedCommand {
    const upper = name.toUpperCase();
    if ((upper === 'EVAL' || upper === 'EVAL_RO') && args[0] !== undefined) {
      return { command: [name, remember(args[0]), ...args.slice(1)] };
    }
    if ((upper === 'EVALSHA' || upper === 'EVALSHA_RO') && args[0] !== undefined) {
      const script = stripped.get(args[0].toLowerCase());
      if (script === undefined) return { command: [name, ...args] };
      const evalCommand = [upper === 'EVALSHA' ? 'EVAL' : 'EVAL_RO', script, ...args.slice(1)];
      if (options.inTransaction) return { command: evalCommand };
      return { command: [name, sha1Hex(script), ...args.slice(1)], onNoScript: evalCommand };
    }
    if (upper === 'SCRIPT') return prepareScriptCommand(name, args);
    return { command: [name, ...args] };
  }

  function prepareScriptCommand(name: string, [sub = '', ...args]: string[]): PreparedCommand {
    const subUpper = sub.toUpperCase();
    if (subUpper === 'LOAD' && args[0] !== undefined) {
      const original = args[0];
      const script = remember(original);
      if (script === original) return { command: [name, sub, ...args] };
      return { command: [name, sub, script], mapReply: () => Buffer.from(sha1Hex(original)) };
    }
    if (subUpper === 'EXISTS') {
      const hashes = args.map((hash) => {
        const script = stripped.get(hash.toLowerCase());
        return script === undefined ? hash : sha1Hex(script);
      });
      return { command: [name, sub, ...hashes] };
    }
    if (subUpper === 'FLUSH') stripped.clear();
    return { command: [name, sub, ...args] };
  }

  return {
    prepare,
    get size() {
      return stripped.size;
    },
  };
}
