import { currencyCode, taskTypes } from '@tessera/contracts';
import { z } from 'zod';

const threshold = z.number().int().min(1).max(1_000_000_000);
const hour = z.number().int().min(0).max(23);

/**
 * What unlocks a badge, as admins define it. Strict: a field that does not belong to the type
 * (a `task_type` on a review badge) is refused, not ignored.
 * - tasks_completed: approved submissions, of one task type or any;
 * - reviews_done: reviews that counted toward a verdict;
 * - earnings_total: money earned (rewards, judge fees, bonuses) in minor units of one currency;
 *   with `currency` only that one, without it any one currency;
 * - streak_days, trust_score: standing's current streak and trust score (0–10, one decimal);
 * - time_of_day: approved submissions received between `from_hour` (inclusive) and `to_hour`
 *   (exclusive) in the user's local time; a window may wrap midnight (22 → 4).
 */
export const criteriaSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('tasks_completed'), threshold, task_type: z.enum(taskTypes).optional() }),
  z.strictObject({ type: z.literal('reviews_done'), threshold }),
  z.strictObject({ type: z.literal('earnings_total'), threshold, currency: currencyCode.optional() }),
  z.strictObject({ type: z.literal('streak_days'), threshold }),
  z.strictObject({
    type: z.literal('trust_score'),
    threshold: z
      .number()
      .min(0.1)
      .max(10)
      .refine((value) => Math.abs(value * 10 - Math.round(value * 10)) < 1e-9, {
        message: 'at most one decimal',
      }),
  }),
  z
    .strictObject({ type: z.literal('time_of_day'), from_hour: hour, to_hour: hour, threshold })
    .refine((criteria) => criteria.from_hour !== criteria.to_hour, {
      message: 'from_hour and to_hour must differ',
      path: ['to_hour'],
    }),
]);

export type BadgeCriteria = z.infer<typeof criteriaSchema>;
