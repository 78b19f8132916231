/** Every way a schema change can break a consumer or a replay of the stream. */
export type IncompatibilityKind =
  | 'field-removed'
  | 'field-renamed'
  | 'required-field-added'
  | 'field-added-to-closed-object'
  | 'made-required'
  | 'made-optional'
  | 'type-changed'
  | 'made-nullable'
  | 'made-non-nullable'
  | 'enum-values-added'
  | 'enum-values-removed'
  | 'const-changed'
  | 'constraint-tightened'
  | 'variant-added'
  | 'variant-removed'
  | 'unsupported-change';

export interface Incompatibility {
  readonly kind: IncompatibilityKind;
  /** Where in the event data, e.g. `$.reward.amount`, `$.items[*]`, `$.payout<kind="bank">`. */
  readonly path: string;
  /** What changed and why it breaks, for a human. */
  readonly message: string;
}

export function fieldPath(path: string, field: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(field) ? `${path}.${field}` : `${path}[${JSON.stringify(field)}]`;
}
