import { isRecord } from './config.ts';

/**
 * The phrase after which a gateway puts the JSON schema in its system message for providers without native
 * structured outputs: `<instructions>\n\nReply with only a JSON object, no prose and no code fence, valid
 * against this JSON Schema:\n<schema as one-line JSON>`.
 */
export const PROMPT_SCHEMA_MARKER = 'valid against this JSON Schema:';

/**
 * The JSON schema that system text asks the reply to follow: the JSON object right after the last
 * PROMPT_SCHEMA_MARKER (text after the object is ignored). Undefined when there is no marker or what follows
 * it is not a JSON object, so the model answers in plain text.
 */
export function schemaFromPrompt(systemText: string): Record<string, unknown> | undefined {
  const at = systemText.lastIndexOf(PROMPT_SCHEMA_MARKER);
  if (at < 0) return undefined;
  const rest = systemText.slice(at + PROMPT_SCHEMA_MARKER.length).trimStart();
  const end = objectEnd(rest);
  if (end === undefined) return undefined;
  try {
    const schema: unknown = JSON.parse(rest.slice(0, end));
    return isRecord(schema) ? schema : undefined;
  } catch {
    return undefined;
  }
}

/** The index just past the `{…}` that starts `text`, counting braces outside strings; JSON.parse checks the rest. */
function objectEnd(text: string): number | undefined {
  if (!text.startsWith('{')) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}
