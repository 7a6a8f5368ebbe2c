import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { AppEnv } from '../lib/app-env';
import { cancelJob } from '../lib/bulk/cancel';
import { bulkFor } from '../lib/bulk/services';
import { submitJob } from '../lib/bulk/submit';
import { BULK_TASKS } from '../lib/bulk/tasks';
import { InvalidRequestError, NotFoundError, RequestTooLargeError } from '../lib/errors';
import { servicesOf } from '../lib/request-services';
import { valid } from '../lib/validate';

/** The client's metadata, echoed on the job and sent with the batch (which adds `gateway_job`). */
const Metadata = z
  .record(z.string().min(1).max(64), z.string().max(512))
  .refine((m) => Object.keys(m).length <= 15, 'at most 15 pairs')
  .refine((m) => !('gateway_job' in m), 'gateway_job is reserved');

export const BulkRequest = z.strictObject({
  task: z.enum(BULK_TASKS),
  /** Each item is the body the single endpoint takes; validated per item with its schema. */
  items: z.array(z.unknown()).min(1),
  metadata: Metadata.optional(),
});

export const Page = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const noStore = { 'cache-control': 'no-store' };

/**
 * The most a job's request body may be, whatever MAX_BODY_BYTES allows. Submitting holds the body's
 * items several times over while it validates, keys, prices and uploads them (measured: about 11 times
 * the body for long intents, plus ~4.5 KB an item; bench/RESULTS.md, "Memory"), and a Worker isolate
 * has 128 MB: with this and BULK_MAX_ITEMS ≤ 10,000, one submission stays under about 50 MB.
 */
export const BULK_MAX_BODY_BYTES = 4 * 1_048_576;

const bulkBodyLimit = bodyLimit({
  maxSize: BULK_MAX_BODY_BYTES,
  onError: () => {
    throw new RequestTooLargeError({
      message: `A bulk job's body may be at most ${BULK_MAX_BODY_BYTES} bytes; split the items into several jobs.`,
    });
  },
});

/**
 * Bulk jobs on OpenAI's Batch API (half the price, up to 24 h): `POST /v1/batches` validates every item,
 * screens it with the local moderation layers, reserves the worst case at the batch price and submits
 * one batch; a cron (lib/bulk/poll.ts) follows it, then validates, moderates and caches each result, so
 * later single calls with the same request are cache hits. `GET /v1/batches/:id` shows progress and,
 * once final, the results in input order; `POST /v1/batches/:id/cancel` stops it. Jobs are their
 * submitting key's only: another key gets 404.
 */
export const batches = new Hono<AppEnv>()
  .post('/v1/batches', bulkBodyLimit, valid('json', BulkRequest), async (c) => {
    const body = c.req.valid('json');
    const max = c.get('env').BULK_MAX_ITEMS;
    if (body.items.length > max) {
      throw new InvalidRequestError({
        message: `A job takes at most ${max} items; this one has ${body.items.length}.`,
        param: 'items',
      });
    }
    const bulk = bulkFor(servicesOf(c));
    const record = await submitJob(bulk.submitDeps(), {
      task: body.task,
      items: body.items,
      metadata: body.metadata ?? {},
    });
    return c.json(bulk.view(record), 202, noStore);
  })
  .get('/v1/batches/:id', valid('query', Page), async (c) => {
    const page = c.req.valid('query');
    const bulk = bulkFor(servicesOf(c));
    const found = await bulk.store.read(c.req.param('id'), page);
    if (!found || !bulk.owns(found.record)) throw notFound(c.req.param('id'));
    return c.json(bulk.view(found.record, { ...page, results: found.results }), 200, noStore);
  })
  .post('/v1/batches/:id/cancel', async (c) => {
    const bulk = bulkFor(servicesOf(c));
    const found = await bulk.store.read(c.req.param('id'));
    if (!found || !bulk.owns(found.record)) throw notFound(c.req.param('id'));
    const record = await cancelJob(bulk, found.record);
    return c.json(bulk.view(record), 200, noStore);
  });

const notFound = (id: string) => new NotFoundError({ message: `No bulk job ${id}.` });
