/** A JSON Schema as plain data: an object, or `true`/`false` where a schema may be a boolean. */
export type JsonObject = { [key: string]: unknown };
export type JsonSchema = JsonObject | boolean;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Stable text for a JSON file: two-space indent and a final newline. */
export function toJsonText(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
