import { invalidParam, missingParam, SimHttpError } from './errors.ts';
import type { MultipartFile } from './multipart.ts';
import { exactPath, idPath, type RouteContext, type RouteResult, type SimRoute } from './routes.ts';
import { fileObject, type SimFile } from './storage.ts';

/** The purposes `POST /v1/files` accepts (FilePurpose in the SDK). */
const PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'];
/** OpenAI's limit for a batch input file. */
const MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024;

const oneFile = idPath('/v1/files/');
const fileContent = idPath('/v1/files/', '/content');

/** `POST /v1/files`: a multipart upload with `file` and `purpose`; batch files must be `.jsonl`. */
export const createFileRoute: SimRoute = {
  method: 'POST',
  endpoint: '/v1/files',
  matches: exactPath('/v1/files'),
  body: 'multipart',
  handle(body, ctx): RouteResult {
    const file = body.file as MultipartFile | string | undefined;
    if (file === undefined) throw missingParam('file');
    if (typeof file === 'string') throw invalidParam('file', "Invalid 'file': expected a file upload.");
    if (typeof body.purpose !== 'string' || !body.purpose) throw missingParam('purpose');
    if (!PURPOSES.includes(body.purpose)) {
      throw invalidParam('purpose', `Invalid 'purpose': expected one of ${PURPOSES.join(', ')}.`);
    }
    if (body.purpose === 'batch') {
      if (!file.filename.endsWith('.jsonl'))
        throw invalidParam('file', 'Invalid file format for Batch API. Must be .jsonl');
      if (file.data.length > MAX_BATCH_FILE_BYTES)
        throw invalidParam('file', 'File is too large for the Batch API (at most 200 MB).');
    }
    const stored = storeFile(ctx, { filename: file.filename, purpose: body.purpose, data: file.data });
    return { kind: 'json', body: fileObject(stored) };
  },
};

/** `GET /v1/files/{file_id}`. */
export const retrieveFileRoute: SimRoute = {
  method: 'GET',
  endpoint: '/v1/files/{file_id}',
  matches: oneFile.matches,
  handle: (_body, ctx, path) => ({
    kind: 'json',
    body: fileObject(findFile(ctx, oneFile.idOf(path))),
  }),
};

/** `DELETE /v1/files/{file_id}`. */
export const deleteFileRoute: SimRoute = {
  method: 'DELETE',
  endpoint: '/v1/files/{file_id}',
  matches: oneFile.matches,
  handle(_body, ctx, path): RouteResult {
    const { id } = findFile(ctx, oneFile.idOf(path));
    ctx.storage.files.delete(id);
    return { kind: 'json', body: { id, object: 'file', deleted: true } };
  },
};

/** `GET /v1/files/{file_id}/content`: the raw bytes. */
export const fileContentRoute: SimRoute = {
  method: 'GET',
  endpoint: '/v1/files/{file_id}/content',
  matches: fileContent.matches,
  handle: (_body, ctx, path) => ({
    kind: 'bytes',
    body: findFile(ctx, fileContent.idOf(path)).data,
    contentType: 'application/octet-stream',
  }),
};

/** Stores a new file (an upload, or a batch's output) and returns it. */
export function storeFile(ctx: RouteContext, file: Omit<SimFile, 'id' | 'createdAt'>): SimFile {
  const stored: SimFile = { ...file, id: ctx.newId('file-'), createdAt: ctx.nowSeconds };
  ctx.storage.files.set(stored.id, stored);
  return stored;
}

/** The stored file, or OpenAI's 404 for an unknown id. */
export function findFile(ctx: RouteContext, id: string): SimFile {
  const file = ctx.storage.files.get(id);
  if (!file) throw new SimHttpError(404, `No such File object: ${id}`, { param: 'id' });
  return file;
}
