/**
 * Commands issued together reach Upstash as one pipeline request. @upstash/redis's auto-pipeline does
 * the same, but builds a `Pipeline` per batch (a closure per command method, hundreds of them) and
 * routes every call through a Proxy: a tenth of a cache hit's allocations. This batches the client's
 * single-command requests instead, below the commands, so each command still serialises and parses
 * itself as the SDK defines.
 */
import type { Redis } from '@upstash/redis/cloudflare';

type Middleware = Parameters<Redis['use']>[0];
type Send = Parameters<Middleware>[1];
type Reply = Awaited<ReturnType<Send>>;

interface Waiting {
  command: unknown;
  resolve: (reply: Reply) => void;
  reject: (err: unknown) => void;
}

/** @upstash/redis's own ceiling for one auto-pipeline batch. */
const MAX_BATCH = 1000;

/** Two microtasks, as the auto-pipeline waits: what a request issues in the same turn joins the batch. */
async function turnEnds(): Promise<void> {
  await Promise.resolve();
  await Promise.resolve();
}

/**
 * A `redis.use` middleware, installed last (outermost): every single command the client sends waits
 * for the rest of its turn's commands and goes with them as `/pipeline`, in the order issued. A batch
 * is sent inside the task that started it, so it never holds another invocation's commands (workerd
 * runs those as tasks of their own). Anything else (an explicit pipeline or transaction, a stream, a
 * request with its own headers or signal) goes as it is. A failed request fails each command in it,
 * reads included (the SDK sent a turn's reads apart from its writes, and some commands alone): one
 * turn's commands share one fate and one wait; a command's own error fails that command alone.
 */
export function batchCommands(): Middleware {
  let open: Waiting[] | null = null;
  return (req, send) => {
    if (req.path || req.headers || req.isStreaming || req.signal || !Array.isArray(req.body))
      return send(req);
    return new Promise<Reply>((resolve, reject) => {
      let batch = open;
      if (!batch) {
        const started: Waiting[] = [];
        batch = open = started;
        void turnEnds().then(() => {
          if (open === started) open = null;
          sendBatch(started, send);
        });
      }
      batch.push({ command: req.body, resolve, reject });
      if (batch.length >= MAX_BATCH) open = null;
    });
  };
}

function sendBatch(batch: Waiting[], send: Send): void {
  let sent: ReturnType<Send>;
  try {
    sent = send({ path: ['pipeline'], body: batch.map((w) => w.command) });
  } catch (err) {
    // A middleware that throws instead of rejecting must not leave the batch waiting for ever.
    for (const w of batch) w.reject(err);
    return;
  }
  sent.then(
    (replies) => {
      // A pipeline answers with one reply per command, in order.
      if (!Array.isArray(replies) || replies.length !== batch.length) {
        const error = (replies as { error?: unknown } | null)?.error;
        const got = Array.isArray(replies)
          ? `${replies.length} replies`
          : `no list${error ? ` (${error})` : ''}`;
        const err = new Error(`Upstash answered a pipeline of ${batch.length} commands with ${got}.`);
        for (const w of batch) w.reject(err);
        return;
      }
      for (const [i, w] of batch.entries()) w.resolve(replies[i] as Reply);
    },
    (err: unknown) => {
      for (const w of batch) w.reject(err);
    },
  );
}
