import * as zlib from 'node:zlib';
import { deflateSync, type ZlibOptions } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** zlib's native CRC-32 (Node 22.2+); megapixel images would spend most of their encoding in the JS one. */
const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 as PNG chunks use it (ISO 3309 / ITU-T V.42). */
export function crc32(data: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(data);
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** Raw pixels to encode. */
export interface PngImage {
  width: number;
  height: number;
  /** 3 for RGB, 4 for RGBA. */
  channels: 3 | 4;
  /** Row-major pixels, `width * height * channels` bytes. */
  pixels: Uint8Array;
  /** Optional tEXt chunks (Latin-1 keyword → text). */
  text?: Record<string, string>;
  /** Options for the IDAT's deflate, e.g. a faster strategy for noisy pixels. @default zlib's defaults */
  deflate?: ZlibOptions;
}

/** A valid 8-bit PNG: signature, IHDR, optional tEXt, one zlib IDAT with filter type 0 rows, IEND. */
export function encodePng(image: PngImage): Buffer {
  const { width, height, channels, pixels } = image;
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.writeUInt8(8, 8);
  header.writeUInt8(channels === 4 ? 6 : 2, 9);
  const rowLength = width * channels;
  const raw = Buffer.alloc((rowLength + 1) * height);
  for (let y = 0; y < height; y += 1) {
    raw[y * (rowLength + 1)] = 0;
    raw.set(pixels.subarray(y * rowLength, (y + 1) * rowLength), y * (rowLength + 1) + 1);
  }
  const textChunks = Object.entries(image.text ?? {}).map(([keyword, text]) =>
    chunk('tEXt', Buffer.from(`${keyword}\0${text}`, 'latin1')),
  );
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    ...textChunks,
    chunk('IDAT', deflateSync(raw, image.deflate)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  typeAndData.copy(out, 4);
  out.writeUInt32BE(crc32(typeAndData), 8 + data.length);
  return out;
}
