import { sampleRegex } from './regex-sample.ts';
import type { Rng } from './rng.ts';
import { description, takeWords, titleCase } from './text.ts';

/** Where string values come from. */
export interface StringContext {
  rng: Rng;
  /** Content words from the request input. */
  words: readonly string[];
}

type Schema = Record<string, unknown>;

const COLOURS = ['black', 'white', 'navy', 'red', 'green', 'beige', 'grey', 'blue'];

/** Property-name hints, checked in order against the lower-cased name; the first match builds the value. */
const NAME_HINTS: Array<[RegExp, (ctx: StringContext) => string]> = [
  [/e-?mail/, (ctx) => email(ctx)],
  [
    /(url|uri|link|href|website|image)$/,
    (ctx) => `https://example.com/${slug(takeWords(ctx.words, ctx.rng, 2))}`,
  ],
  [/(^|_)(id|uuid|guid)$|Id$/, (ctx) => `${slug(takeWords(ctx.words, ctx.rng, 1))}-${hex(ctx.rng, 6)}`],
  [/phone/, () => '+1-555-0100'],
  [/colou?r/, (ctx) => ctx.rng.pick(COLOURS)],
  [/currency/, () => 'USD'],
  [/country/, () => 'US'],
  [/(^|_)(lang|language|locale)$/, () => 'en'],
  [/sku|(^|_)code$/, (ctx) => `SKU-${hex(ctx.rng, 6).toUpperCase()}`],
  [/slug|handle/, (ctx) => slug(takeWords(ctx.words, ctx.rng, 3))],
  [
    /title|name|headline|heading|label|subject|brand/,
    (ctx) => titleCase(takeWords(ctx.words, ctx.rng, Math.min(ctx.words.length, ctx.rng.int(2, 5)))),
  ],
  [
    /desc|summary|text|body|content|message|reason|explan|detail|note|comment|answer|caption|copy|rationale/,
    (ctx) => description(ctx.words, ctx.rng, ctx.rng.int(6, 12)),
  ],
  [
    /tag|keyword|category|topic|segment|audience/,
    (ctx) => takeWords(ctx.words, ctx.rng, 1).join('').toLowerCase(),
  ],
];

/**
 * A value for a string schema: its `format` if it has one, else a plausible string derived from the
 * property name and the input words; then adjusted to `pattern`, `minLength` and `maxLength`.
 */
export function stringFor(schema: Schema, name: string, ctx: StringContext): string {
  const format = typeof schema.format === 'string' ? formatValue(schema.format, ctx) : undefined;
  let value = format ?? plausibleString(name, ctx);
  if (typeof schema.pattern === 'string' && !matches(schema.pattern, value)) {
    const sampled = sampleRegex(schema.pattern, ctx.rng);
    if (sampled !== undefined && matches(schema.pattern, sampled)) value = sampled;
  }
  return fitLength(
    value,
    numberOr(schema.minLength, 0),
    numberOr(schema.maxLength, Number.POSITIVE_INFINITY),
    ctx,
  );
}

/** A string that fits the property name: an email for `email`, words from the input for `title`, etc. */
export function plausibleString(name: string, ctx: StringContext): string {
  const key = name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
  const hint = NAME_HINTS.find(([pattern]) => pattern.test(key) || pattern.test(name));
  return hint ? hint[1](ctx) : takeWords(ctx.words, ctx.rng, ctx.rng.int(2, 4)).join(' ');
}

function formatValue(format: string, ctx: StringContext): string | undefined {
  const { rng } = ctx;
  const when = new Date(Date.UTC(2025, 0, 1) + rng.int(0, 730) * 86_400_000 + rng.int(0, 86_399) * 1000);
  const iso = when.toISOString().replace('.000Z', 'Z');
  switch (format) {
    case 'date-time':
      return iso;
    case 'date':
      return iso.slice(0, 10);
    case 'time':
      return iso.slice(11, 19);
    case 'duration':
      return `P${rng.int(1, 30)}D`;
    case 'email':
    case 'idn-email':
      return email(ctx);
    case 'uuid':
      return uuid(rng);
    case 'uri':
    case 'url':
    case 'iri':
      return `https://example.com/${slug(takeWords(ctx.words, rng, 2))}`;
    case 'uri-reference':
    case 'iri-reference':
      return `/${slug(takeWords(ctx.words, rng, 2))}`;
    case 'hostname':
    case 'idn-hostname':
      return `${slug(takeWords(ctx.words, rng, 1))}.example.com`;
    case 'ipv4':
      return `192.0.2.${rng.int(1, 254)}`;
    case 'ipv6':
      return `2001:db8::${hex(rng, 4)}`;
    default:
      return undefined;
  }
}

/**
 * Truncates to `max` UTF-16 units (at a word boundary when possible, never splitting a surrogate pair), then
 * pads with input words up to `min` code points.
 */
export function fitLength(value: string, min: number, max: number, ctx: StringContext): string {
  let out = value;
  if (out.length > max) {
    const cutsWord = /\S/.test(out.charAt(max));
    out = out.slice(0, max);
    if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
    // Prefer ending on a whole word, as a model keeping to a length limit would.
    const lastSpace = out.lastIndexOf(' ');
    if (cutsWord && lastSpace > 0 && lastSpace >= min) out = out.slice(0, lastSpace);
    if (out.trimEnd().length >= min) out = out.trimEnd();
  }
  let guard = 0;
  while ([...out].length < min && guard++ < 1000) {
    const word = takeWords(ctx.words, ctx.rng, 1)[0] ?? 'x';
    out = out ? `${out} ${word}` : word;
  }
  if (out.length > max) out = out.slice(0, max);
  while ([...out].length < min) out += 'x';
  return out;
}

function email(ctx: StringContext): string {
  return `${slug(takeWords(ctx.words, ctx.rng, 1), '.') || 'user'}@example.com`;
}

/** ASCII kebab-case (or `separator`-joined) form of words; accents are stripped. */
export function slug(words: readonly string[], separator = '-'): string {
  const ascii = words.map((word) =>
    word
      .normalize('NFKD')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, ''),
  );
  return ascii.filter(Boolean).join(separator) || 'item';
}

function hex(rng: Rng, length: number): string {
  return Array.from({ length }, () => rng.int(0, 15).toString(16)).join('');
}

/** A version-4 UUID with the RFC 9562 variant bits, which strict validators (zod's z.uuid()) require. */
function uuid(rng: Rng): string {
  const variant = rng.pick(['8', '9', 'a', 'b']);
  return `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-${variant}${hex(rng, 3)}-${hex(rng, 12)}`;
}

function matches(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    try {
      return new RegExp(pattern).test(value);
    } catch {
      return true;
    }
  }
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}
