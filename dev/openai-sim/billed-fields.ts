import { isRecord } from './config.ts';
import { invalidParam, SimHttpError } from './errors.ts';
import { BUILT_IN_TOOL_FEES } from './prices.ts';

/** `service_tier` values the SDK's ServiceTier lists, and the tier each one is served and billed at. */
const SERVED_TIER: Record<string, string> = {
  auto: 'default',
  default: 'default',
  flex: 'flex',
  scale: 'scale',
  priority: 'priority',
  fast: 'priority',
};

/**
 * The tier a request is served at, as the response echoes it: `auto` (or none) is the project's default,
 * `fast` is reported as `priority`. `ultrafast` is access-controlled, and a simulated project has no access.
 */
export function servedTier(value: unknown): string {
  if (value === undefined || value === null) return 'default';
  if (value === 'ultrafast') {
    throw new SimHttpError(403, "The 'ultrafast' service tier is not available for this organization.", {
      param: 'service_tier',
    });
  }
  const tier = typeof value === 'string' ? SERVED_TIER[value] : undefined;
  if (!tier) {
    throw invalidParam(
      'service_tier',
      `Invalid value for 'service_tier': expected one of ${Object.keys(SERVED_TIER).join(', ')}.`,
    );
  }
  return tier;
}

/** The built-in tools (web search, file search, code interpreter, image generation, MCP) a Responses request lists. */
export function builtInTools(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .map((tool) => (isRecord(tool) && typeof tool.type === 'string' ? tool.type : ''))
    .filter((type) => type in BUILT_IN_TOOL_FEES);
}
