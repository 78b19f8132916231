import { describe, expect, it } from 'vitest';
import { criteriaSchema } from './criteria.ts';
import { counts, decideWindow, isComplete, runsOn } from './decide.ts';

describe('what counts toward a mission', () => {
  const anyTask = { type: 'tasks_completed', count: 5 } as const;
  const audio = { type: 'tasks_completed', count: 5, task_type: 'audio' } as const;
  const reviews = { type: 'reviews_done', count: 3 } as const;

  it('counts an approval of the type asked, or of any type when none is asked', () => {
    expect(counts(audio, { kind: 'approval', taskType: 'audio' })).toBe(true);
    expect(counts(audio, { kind: 'approval', taskType: 'image' })).toBe(false);
    expect(counts(anyTask, { kind: 'approval', taskType: 'image' })).toBe(true);
  });

  it('counts an approval of an unknown task type only for missions of any type', () => {
    expect(counts(anyTask, { kind: 'approval', taskType: undefined })).toBe(true);
    expect(counts(audio, { kind: 'approval', taskType: undefined })).toBe(false);
  });

  it('keeps reviews and approvals apart', () => {
    expect(counts(reviews, { kind: 'review' })).toBe(true);
    expect(counts(reviews, { kind: 'approval', taskType: 'audio' })).toBe(false);
    expect(counts(anyTask, { kind: 'review' })).toBe(false);
  });

  it('is complete at the count, not before', () => {
    expect(isComplete(anyTask, 4)).toBe(false);
    expect(isComplete(anyTask, 5)).toBe(true);
    expect(isComplete(anyTask, 6)).toBe(true);
  });
});

describe('when a mission runs', () => {
  const mission = { active: true, starts_on: '2026-03-01', ends_on: '2026-03-03' };

  it('runs inside its window, ends included, and never when switched off', () => {
    expect(runsOn(mission, '2026-02-28')).toBe(false);
    expect(runsOn(mission, '2026-03-01')).toBe(true);
    expect(runsOn(mission, '2026-03-03')).toBe(true);
    expect(runsOn(mission, '2026-03-04')).toBe(false);
    expect(runsOn({ ...mission, active: false }, '2026-03-02')).toBe(false);
    expect(runsOn({ active: true, starts_on: null, ends_on: null }, '1999-01-01')).toBe(true);
  });

  it('refuses a window that ends before it starts', () => {
    const refused = decideWindow({ starts_on: '2026-03-02', ends_on: '2026-03-01' });
    expect(refused.ok).toBe(false);
    if (!refused.ok)
      expect(refused.refusal).toMatchObject({ kind: 'unprocessable', code: 'MISSION_DATES_INVALID' });
    expect(decideWindow({ starts_on: '2026-03-01', ends_on: '2026-03-01' }).ok).toBe(true);
    expect(decideWindow({ starts_on: null, ends_on: '2026-03-01' }).ok).toBe(true);
  });
});

describe('mission criteria', () => {
  it('takes a task type only on task missions', () => {
    expect(criteriaSchema.safeParse({ type: 'tasks_completed', count: 5, task_type: 'audio' }).success).toBe(
      true,
    );
    expect(criteriaSchema.safeParse({ type: 'reviews_done', count: 5, task_type: 'audio' }).success).toBe(
      false,
    );
    expect(criteriaSchema.safeParse({ type: 'tasks_completed', count: 5, task_type: 'video' }).success).toBe(
      false,
    );
    expect(criteriaSchema.safeParse({ type: 'tasks_completed', count: 0 }).success).toBe(false);
  });
});
