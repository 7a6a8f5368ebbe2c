import { isRecord } from './config.ts';
import { type JsonSchema, resolveSchema } from './schema-instance.ts';

/**
 * Breaks a valid instance the way a model sometimes does, for the `schema_violation` fault: drops the first
 * required root property; else overruns the first root string with a maxLength; else returns the wrong type.
 * The result is still valid JSON.
 */
export function violateInstance(schema: JsonSchema, instance: unknown): unknown {
  const root = isRecord(schema) ? resolveSchema(schema, schema) : {};
  if (isRecord(instance)) {
    const required = Array.isArray(root.required) ? (root.required as string[]) : [];
    const missing = required.find((key) => key in instance);
    if (missing !== undefined) {
      const { [missing]: _dropped, ...rest } = instance;
      return rest;
    }
    const properties = isRecord(root.properties) ? root.properties : {};
    for (const [key, sub] of Object.entries(properties)) {
      const resolved = isRecord(sub) ? resolveSchema(sub, schema) : {};
      if (typeof resolved.maxLength === 'number' && typeof instance[key] === 'string') {
        return { ...instance, [key]: `${instance[key]}${'x'.repeat(resolved.maxLength + 1)}` };
      }
    }
    return [instance];
  }
  return { unexpected: instance ?? true };
}
