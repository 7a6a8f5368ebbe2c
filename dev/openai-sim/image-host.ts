import type { IncomingMessage, ServerResponse } from 'node:http';
import { SimHttpError } from './errors.ts';
import { sendJson } from './http.ts';
import { IMAGE_FLAG_MARKER } from './moderation-terms.ts';
import { encodePng } from './png.ts';

/**
 * A test image host under `/_sim/images/<name>` (not an OpenAI endpoint): an image URL a client can hand
 * the gateway, served the ways real hosts serve them, well and badly. `GET` (or `HEAD`) takes options in
 * the query:
 * - `format`: `png` (the default, a real 2×2 PNG), `jpeg`, `webp` or `gif` (that format's signature
 *   followed by filler), or `none` (text, no image at all): the bytes; each name gets bytes of its own;
 * - `type`: the `content-type` header (default: the format's media type);
 * - `bytes`: the body padded to this many bytes; with `length=0` it is sent chunked, with no
 *   `content-length`, so a reader can only find its size by reading;
 * - `flag=1`: the bytes carry the `sim-flag` marker, so moderation flags the image; `flag_from=n`: only
 *   the n-th fetch of this name and later ones do (a host that answers each fetch differently);
 * - `redirects=n`: a 302 to the same URL with `redirects=n-1`, so the image comes after n redirects;
 *   `loop=1`: a 302 to the very same URL, forever; `redirect_to=<url>`: a 302 there;
 * - `status=n`: that status with a short text body instead of the image.
 *
 * `GET /_sim/images/<name>/fetches` answers `{ fetches }`: how many requests that name got (redirects
 * included). Counts live as long as the simulator.
 */
export function createImageHost() {
  const fetches = new Map<string, number>();

  return function serve(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = /^\/_sim\/images\/([A-Za-z0-9._-]+)(\/fetches)?$/.exec(url.pathname);
    if (!path || (req.method !== 'GET' && req.method !== 'HEAD'))
      throw new SimHttpError(404, `Invalid URL (${req.method} ${url.pathname})`);
    const name = path[1] as string;
    if (path[2]) {
      sendJson(res, 200, { fetches: fetches.get(name) ?? 0 });
      return;
    }
    const count = (fetches.get(name) ?? 0) + 1;
    fetches.set(name, count);
    const q = url.searchParams;
    const redirect = redirectOf(url);
    if (redirect) {
      res.writeHead(302, { location: redirect, 'content-length': '0' });
      res.end();
      return;
    }
    if (q.has('status')) {
      res.writeHead(Number(q.get('status')), { 'content-type': 'text/plain' });
      res.end('no image here');
      return;
    }
    const format = q.get('format') ?? 'png';
    const flagFrom = q.has('flag_from') ? Number(q.get('flag_from')) : q.get('flag') === '1' ? 1 : 0;
    const flagged = flagFrom > 0 && count >= flagFrom;
    const body = padded(imageBytes(format, `${name}${flagged ? ` ${IMAGE_FLAG_MARKER}` : ''}`), q);
    const headers: Record<string, string> = { 'content-type': q.get('type') ?? `image/${format}` };
    if (q.get('length') !== '0') headers['content-length'] = String(body.length);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // In 64 KiB pieces, so a reader that stops early leaves the rest unsent.
    for (let i = 0; i < body.length; i += 65_536) res.write(body.subarray(i, i + 65_536));
    res.end();
  };
}

/** Where to redirect, if anywhere: on this host as a relative reference (the server knows no host name). */
function redirectOf(url: URL): string | undefined {
  const q = url.searchParams;
  if (q.get('loop') === '1') return `${url.pathname}${url.search}`;
  if (q.has('redirect_to')) return q.get('redirect_to') ?? undefined;
  const left = Number(q.get('redirects') ?? 0);
  if (!(left > 0)) return undefined;
  const next = new URL(url);
  next.searchParams.set('redirects', String(left - 1));
  return `${next.pathname}${next.search}`;
}

/** Bytes of `format` whose content carries `text` (the name, and the flag marker when flagged). */
function imageBytes(format: string, text: string): Buffer {
  const filler = Buffer.from(` ${text} `, 'latin1');
  if (format === 'png') {
    const pixels = new Uint8Array(2 * 2 * 3).fill(200);
    return encodePng({ width: 2, height: 2, channels: 3, pixels, text: { Comment: text } });
  }
  if (format === 'jpeg')
    return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), filler, Buffer.from([0xff, 0xd9])]);
  if (format === 'gif') return Buffer.concat([Buffer.from('GIF89a', 'latin1'), filler]);
  if (format === 'none') return filler;
  if (format === 'webp') {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(4 + filler.length);
    return Buffer.concat([Buffer.from('RIFF', 'latin1'), size, Buffer.from('WEBP', 'latin1'), filler]);
  }
  throw new SimHttpError(400, `Unknown format '${format}' (png, jpeg, webp, gif or none).`, {
    param: 'format',
  });
}

function padded(bytes: Buffer, q: URLSearchParams): Buffer {
  const wanted = Number(q.get('bytes') ?? 0);
  return wanted > bytes.length ? Buffer.concat([bytes, Buffer.alloc(wanted - bytes.length, 0x20)]) : bytes;
}
