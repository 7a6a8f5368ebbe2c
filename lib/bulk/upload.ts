/**
 * Uploads a batch input file (`purpose: batch`) as it is written, so a large job's file (megabytes per
 * thousand items) is never held whole: the multipart body is generated line by line, encoded into one
 * reused buffer and written to a native FixedLengthStream whose writes complete only once the upload
 * has taken the bytes. Its length is counted first, in a pass over the same lines, so the request
 * carries a Content-Length like any file upload. (The SDK's `files.create` wants a Blob: the whole file,
 * and copies of it, in memory.)
 */
import type OpenAI from 'openai';
import type { FileObject } from 'openai/resources/files';

/** Bytes buffered before a write. */
const WRITE_BYTES = 64 * 1024;
const encoder = new TextEncoder();

/** Uploads the lines `lines()` yields (called twice: to count, then to send) as file `name`. */
export async function uploadInputFile(
  client: OpenAI,
  name: string,
  lines: () => Iterable<string>,
): Promise<FileObject> {
  const boundary = `gateway-${crypto.randomUUID()}`;
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
    'Content-Type: application/jsonl\r\n\r\n';
  const tail = `\r\n--${boundary}--\r\n`;
  let length = utf8Length(head) + utf8Length(tail);
  for (const line of lines()) length += utf8Length(line);

  const { readable, writable } = new FixedLengthStream(length);
  const writer = writable.getWriter();
  const upload = client.post<FileObject>('/files', {
    body: readable,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  });
  const writing = writeAll(writer, [head], lines(), [tail]).then(
    () => undefined,
    (err: unknown) => err ?? new Error('the upload was not written'),
  );
  let file: FileObject;
  try {
    file = await upload;
  } catch (err) {
    writer.abort(err).catch(() => undefined);
    throw err;
  }
  const failed = await writing;
  if (failed) throw failed;
  return file;
}

/** Writes every part, encoded into one buffer that is reused once each write has been taken. */
async function writeAll(
  writer: WritableStreamDefaultWriter<Uint8Array>,
  ...groups: Iterable<string>[]
): Promise<void> {
  let buffer = new Uint8Array(WRITE_BYTES);
  let used = 0;
  for (const parts of groups) {
    for (const part of parts) {
      // A UTF-16 code unit takes at most 3 bytes of UTF-8.
      const most = part.length * 3;
      if (most > buffer.length - used && used > 0) {
        await writer.write(buffer.subarray(0, used));
        used = 0;
      }
      if (most > buffer.length) buffer = new Uint8Array(most);
      used += encoder.encodeInto(part, buffer.subarray(used)).written;
    }
  }
  if (used > 0) await writer.write(buffer.subarray(0, used));
  await writer.close();
}

/** The length of `text` in UTF-8, as TextEncoder writes it (a lone surrogate as U+FFFD). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;
