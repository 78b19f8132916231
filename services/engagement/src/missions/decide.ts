import type { TaskType } from '@tessera/contracts';
import { accept, type Decision, refuse, reject } from '@tessera/service-kit';
import type { MissionCriteria } from './criteria.ts';

/** Something a user did that a mission may count. */
export type Activity =
  /** A submission of theirs was approved; its task's type when the catalog knows it. */
  | { kind: 'approval'; taskType: TaskType | undefined }
  /** A review of theirs counted toward a verdict. */
  | { kind: 'review' };

/**
 * Whether `activity` counts toward a mission with these criteria. An approval whose task type is
 * unknown (the task's published event never arrived) counts only for missions of any type: it
 * cannot be shown to be of the type asked.
 */
export function counts(criteria: MissionCriteria, activity: Activity): boolean {
  if (criteria.type === 'reviews_done') return activity.kind === 'review';
  if (activity.kind !== 'approval') return false;
  return criteria.task_type === undefined || criteria.task_type === activity.taskType;
}

export function isComplete(criteria: MissionCriteria, progress: number): boolean {
  return progress >= criteria.count;
}

/** Whether a mission runs on a local day (YYYY-MM-DD, so string order is date order). */
export function runsOn(
  mission: { active: boolean; starts_on: string | null; ends_on: string | null },
  day: string,
): boolean {
  if (!mission.active) return false;
  if (mission.starts_on !== null && day < mission.starts_on) return false;
  if (mission.ends_on !== null && day > mission.ends_on) return false;
  return true;
}

/** A mission's window: it may be open-ended on either side, but never end before it starts. */
export function decideWindow(window: { starts_on: string | null; ends_on: string | null }): Decision<void> {
  const { starts_on, ends_on } = window;
  if (starts_on !== null && ends_on !== null && ends_on < starts_on) {
    return reject(
      refuse.unprocessable(
        'MISSION_DATES_INVALID',
        `ends_on (${ends_on}) is before starts_on (${starts_on}).`,
      ),
    );
  }
  return accept(undefined);
}
