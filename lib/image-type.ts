import { GatewayError } from './errors';

/** The image types the gateway stores and serves, told apart by their magic bytes. */
export type ImageContentType = 'image/png' | 'image/jpeg' | 'image/webp';

/**
 * Bytes that are not a PNG, JPEG or WebP image, or not the type the caller declared. Bytes come from
 * providers, hence a 502; a caller storing client-supplied bytes should answer 400 instead.
 */
export class UnsupportedImageError extends GatewayError {
  override readonly status = 502;
  static override readonly defaultCode = 'unsupported_image';
}

/** The image type from the leading magic bytes, or null when it is not PNG, JPEG or WebP. */
export function sniffImageType(bytes: Uint8Array): ImageContentType | null {
  const startsWith = (signature: number[], offset = 0) =>
    bytes.length >= offset + signature.length && signature.every((b, i) => bytes[offset + i] === b);
  if (startsWith([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith([0xff, 0xd8, 0xff])) return 'image/jpeg';
  // RIFF container with a WEBP form type: 'RIFF' <size:4> 'WEBP'.
  if (startsWith([0x52, 0x49, 0x46, 0x46]) && startsWith([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return null;
}

/**
 * The type of `bytes`, which must be the `declared` one (its media type only).
 * @throws UnsupportedImageError when the bytes are not PNG/JPEG/WebP or not the declared type.
 */
export function checkedType(bytes: Uint8Array, declared: string): ImageContentType {
  const sniffed = sniffImageType(bytes);
  if (!sniffed) {
    throw new UnsupportedImageError({ message: 'The image data is not a PNG, JPEG or WebP image.' });
  }
  // Compare the media type only: `Image/PNG; foo=bar` declares PNG.
  const declaredType = declared.split(';')[0]?.trim().toLowerCase();
  if (declaredType !== sniffed) {
    throw new UnsupportedImageError({
      message: `The image data is ${sniffed}, not the declared ${declaredType}.`,
    });
  }
  return sniffed;
}
