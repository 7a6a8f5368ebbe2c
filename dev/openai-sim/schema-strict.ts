import { isRecord } from './config.ts';
import type { JsonSchema } from './schema-instance.ts';

/**
 * The strict-mode rules OpenAI enforces before generating (structured outputs guide): the root is an object,
 * and every object lists all its properties in `required` and sets `additionalProperties: false`.
 * Returns the first problem in OpenAI's wording, or undefined when the schema is acceptable.
 */
export function strictSchemaProblem(schema: JsonSchema, name: string): string | undefined {
  const prefix = `Invalid schema for response_format '${name}'`;
  if (!isRecord(schema) || schema.type !== 'object' || 'anyOf' in schema) {
    const type = isRecord(schema) ? JSON.stringify(schema.type ?? null) : 'boolean';
    return `${prefix}: schema must be a JSON Schema of 'type: "object"', got 'type: ${type}'.`;
  }
  const problem = objectProblem(schema, []);
  return problem === undefined ? undefined : `${prefix}: ${problem}`;
}

function objectProblem(node: unknown, context: string[]): string | undefined {
  if (!isRecord(node)) return undefined;
  const where = `In context=(${context.map((part) => `'${part}'`).join(', ')})`;
  const isObject = node.type === 'object' || (Array.isArray(node.type) && node.type.includes('object'));
  if (isObject || isRecord(node.properties)) {
    if (node.additionalProperties !== false) {
      return `${where}, 'additionalProperties' is required to be supplied and to be false.`;
    }
    const keys = Object.keys(isRecord(node.properties) ? node.properties : {});
    const required = Array.isArray(node.required) ? node.required : [];
    const missing = keys.find((key) => !required.includes(key));
    if (missing !== undefined) {
      const rule =
        "'required' is required to be supplied and to be an array including every key in properties";
      return `${where}, ${rule}. Missing '${missing}'.`;
    }
  }
  for (const [keyword, child] of children(node)) {
    const problem = objectProblem(child, [...context, ...keyword]);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function children(node: Record<string, unknown>): Array<[string[], unknown]> {
  const out: Array<[string[], unknown]> = [];
  for (const keyword of ['properties', '$defs', 'definitions']) {
    const map = node[keyword];
    if (isRecord(map)) for (const [key, child] of Object.entries(map)) out.push([[keyword, key], child]);
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf', 'prefixItems']) {
    const list = node[keyword];
    if (Array.isArray(list))
      for (const [index, child] of list.entries()) out.push([[keyword, String(index)], child]);
  }
  if (isRecord(node.items)) out.push([['items'], node.items]);
  return out;
}
