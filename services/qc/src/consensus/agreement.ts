/**
 * Krippendorff's alpha for nominal data: how much the judges agree beyond what chance would give,
 * for a campaign's quality report. Units are submissions, coders are judges, values are verdicts;
 * a judge who did not review a submission is a missing value, which alpha handles natively.
 *
 * The coincidence-matrix form (Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"):
 * every unit with m_u ≥ 2 values contributes each ordered pair of its values with weight
 * 1 / (m_u − 1), n_c is how often value c is pairable and n = Σ n_c. Then
 *
 *   alpha = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k
 *
 * 1 is perfect agreement, 0 is chance, below 0 is systematic disagreement.
 */

export type NominalValue = string | number | boolean;

/**
 * Alpha over units, each the values its coders gave (null or undefined where a coder gave none;
 * which coder gave which value does not matter for nominal alpha).
 *
 * Null when alpha is undefined: no unit has two values (nothing is pairable), or every pairable
 * value is the same, so expected disagreement is 0 and the data say nothing about reliability
 * (Krippendorff: alpha needs variation). Perfect agreement across two or more values is 1.
 */
export function krippendorffAlpha(
  units: readonly (readonly (NominalValue | null | undefined)[])[],
): number | null {
  let pairable = 0;
  let agreeing = 0; // Σ_c o_cc
  const totals = new Map<NominalValue, number>(); // n_c
  for (const unit of units) {
    const values = unit.filter((value): value is NominalValue => value !== null && value !== undefined);
    if (values.length < 2) continue;
    const counts = countValues(values);
    for (const [value, count] of counts) {
      agreeing += (count * (count - 1)) / (values.length - 1);
      totals.set(value, (totals.get(value) ?? 0) + count);
    }
    pairable += values.length;
  }
  if (pairable < 2) return null;
  let sameValuePairs = 0; // Σ_c n_c (n_c − 1)
  for (const count of totals.values()) sameValuePairs += count * (count - 1);
  const expected = pairable * (pairable - 1) - sameValuePairs; // Σ_{c≠k} n_c n_k
  if (expected === 0) return null;
  const observed = pairable - agreeing; // Σ_{c≠k} o_ck
  return 1 - ((pairable - 1) * observed) / expected;
}

/** One coder's value for one unit, as reviews are stored. */
export interface Rating<V extends NominalValue = NominalValue> {
  readonly unit: string;
  readonly coder: string;
  readonly value: V;
}

/** Alpha over ratings; a coder who rated a unit more than once counts with their last value. */
export function krippendorffAlphaOfRatings(ratings: readonly Rating[]): number | null {
  const units = new Map<string, Map<string, NominalValue>>();
  for (const { unit, coder, value } of ratings) {
    const byCoder = units.get(unit) ?? new Map<string, NominalValue>();
    byCoder.set(coder, value);
    units.set(unit, byCoder);
  }
  return krippendorffAlpha([...units.values()].map((byCoder) => [...byCoder.values()]));
}

function countValues(values: readonly NominalValue[]): Map<NominalValue, number> {
  const counts = new Map<NominalValue, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
