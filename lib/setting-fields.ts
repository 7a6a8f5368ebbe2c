import { z } from 'zod';
import { isOutboundUrl } from './outbound-url.ts';

/**
 * The field builders of the settings schema (lib/settings.ts). Vars and secrets arrive as strings or
 * numbers; an empty string counts as unset so `KEY=` in `.dev.vars` means "default".
 */
export const unset = (value: unknown) => (value === '' || value === null ? undefined : value);
export const text = (fallback: string) => z.preprocess(unset, z.string().trim().min(1).default(fallback));
export const secret = () =>
  z.preprocess(unset, z.string({ error: 'is required' }).trim().min(1, 'is required'));
/** An address the gateway sends secrets or data to, as {@link isOutboundUrl} allows. */
export const outboundUrl = () =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL', abort: true })
    .refine(isOutboundUrl, 'must be https (plain http only to localhost)');
export const url = () => z.preprocess(unset, outboundUrl());
export const int = (fallback: number, min: number, max: number) =>
  z.preprocess(unset, z.coerce.number().int().min(min).max(max).default(fallback));
export const bool = (fallback: boolean) =>
  z.preprocess(
    unset,
    z
      .union([z.boolean(), z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1')])
      .default(fallback),
  );
export const num = (fallback: number, min: number, max: number) =>
  z.preprocess(unset, z.coerce.number().min(min).max(max).default(fallback));

export const json = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value, ctx) => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be valid JSON' });
      return z.NEVER;
    }
  }, schema);

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** An IANA time zone name, `UTC` unless set. */
export const timeZone = () =>
  z.preprocess(
    unset,
    z.string().refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Paris').default('UTC'),
  );
