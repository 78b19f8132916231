/**
 * The seed's feed score with rewards in minor units:
 * `(priority ? 10 : 0) + (10 − taken / max × 10) + reward / 1000` (reward in cents / 1000 = the
 * seed's dollars / 10). Same operations in the same order as the stored `tasks.priority_score`
 * column (migration 0001), so both give the same double; the feed ranks by that column.
 */
export function priorityScore(task: {
  is_priority: boolean;
  slots_taken: number;
  max_submissions: number;
  reward_amount: number;
}): number {
  return (
    (task.is_priority ? 10 : 0) +
    (10 - (task.slots_taken / task.max_submissions) * 10) +
    task.reward_amount / 1000
  );
}
