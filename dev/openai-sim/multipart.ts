import { SimHttpError } from './errors.ts';

/** One uploaded file of a multipart/form-data body. */
export interface MultipartFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

/**
 * Parses a multipart/form-data body (RFC 7578) as the openai SDK's `FormData` uploads send it: parts with a
 * filename become MultipartFile, the others UTF-8 strings. Binary-safe, since a file part may hold any bytes.
 * @throws SimHttpError 400 for a body that is not multipart or has no closing boundary.
 */
export function parseMultipart(
  body: Buffer,
  contentType: string | undefined,
): Record<string, string | MultipartFile> {
  const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? '');
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) {
    throw new SimHttpError(
      400,
      `Invalid Content-Type header (${contentType ?? 'none'}), expected multipart/form-data.`,
    );
  }
  const delimiter = Buffer.from(`--${marker}`);
  const next = Buffer.from(`\r\n--${marker}`);
  const fields: Record<string, string | MultipartFile> = {};
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') return fields;
    const headerEnd = body.indexOf('\r\n\r\n', at);
    const end = headerEnd < 0 ? -1 : body.indexOf(next, headerEnd + 4);
    if (end < 0) break;
    const headers = body.subarray(at, headerEnd).toString('utf8').trim().split('\r\n');
    const data = body.subarray(headerEnd + 4, end);
    const disposition = headerOf(headers, 'content-disposition');
    const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
    if (name !== undefined) {
      fields[name] =
        filename === undefined
          ? data.toString('utf8')
          : { filename, contentType: headerOf(headers, 'content-type') || 'application/octet-stream', data };
    }
    at = end + 2;
  }
  throw new SimHttpError(400, 'Invalid multipart/form-data body: no closing boundary.');
}

function headerOf(headers: string[], name: string): string {
  const line = headers.find((h) => h.toLowerCase().startsWith(`${name}:`));
  return line ? line.slice(name.length + 1).trim() : '';
}
