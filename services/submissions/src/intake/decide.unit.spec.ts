import { taskInputSchemas } from '@tessera/contracts';
import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { type Claim, decideMedia, decideSubmit, type MediaView, type SubmitState } from './decide.ts';

const now = new Date('2026-12-01T12:00:00Z');
const later = (ms: number) => new Date(now.getTime() + ms);
const me = 'c0000000-0000-4000-8000-000000000001';
const claim: Claim = {
  id: 'a0000000-0000-4000-8000-000000000001',
  taskId: 't0000000-0000-4000-8000-000000000001',
  campaignId: 'b0000000-0000-4000-8000-000000000001',
  companyId: 'd0000000-0000-4000-8000-000000000001',
  contributorId: me,
  status: 'active',
  expiresAt: later(60_000),
};
const task = {
  id: claim.taskId,
  type: 'validation' as const,
  input: taskInputSchemas.validation.parse({
    item_url: 'https://x.test/i',
    item_kind: 'text',
    question: 'q',
    options: ['yes', 'no'],
  }),
};
const open: SubmitState = { claim, task, earlier: null, now };
const spec = decider(decideSubmit);
const answer = { contributorId: me, payload: { option: 'yes' } };

describe('handing in work under a claim', () => {
  it('accepts a first hand-in under an open claim of the caller', () => {
    spec
      .given(open)
      .when(answer)
      .thenMatches((decision) => {
        if (decision.kind !== 'first') throw new Error(`decided ${decision.kind}`);
      });
  });

  it('waits for a claim or task it has not heard of (409, retry)', () => {
    spec
      .given({ ...open, claim: null })
      .when(answer)
      .thenRefuses('ASSIGNMENT_UNKNOWN', 'conflict');
    spec
      .given({ ...open, task: null })
      .when(answer)
      .thenRefuses('ASSIGNMENT_UNKNOWN', 'conflict');
  });

  it("hides another contributor's claim (404)", () => {
    spec
      .given(open)
      .when({ ...answer, contributorId: 'c0000000-0000-4000-8000-000000000002' })
      .thenRefuses('ASSIGNMENT_NOT_FOUND', 'not_found');
  });

  it('refuses a released or expired claim', () => {
    spec
      .given({ ...open, claim: { ...claim, status: 'released' } })
      .when(answer)
      .thenRefuses('ASSIGNMENT_RELEASED', 'conflict');
    spec
      .given({ ...open, claim: { ...claim, status: 'expired' } })
      .when(answer)
      .thenRefuses('ASSIGNMENT_EXPIRED', 'conflict');
    spec
      .given({ ...open, claim: { ...claim, expiresAt: now } })
      .when(answer)
      .thenRefuses('ASSIGNMENT_EXPIRED', 'conflict');
  });

  it('refuses a second hand-in, unless review asked for the one revision and its deadline has not passed', () => {
    const earlier = { id: 's1', status: 'in_review' as const, revision: 1, revisionDeadline: null };
    spec
      .given({ ...open, earlier })
      .when(answer)
      .thenRefuses('ALREADY_SUBMITTED', 'conflict');
    const asked = { ...earlier, status: 'revision_requested' as const, revisionDeadline: later(1000) };
    spec
      .given({ ...open, earlier: asked })
      .when(answer)
      .thenMatches((decision) => {
        if (decision.kind !== 'revision' || decision.revision !== 2 || decision.submissionId !== 's1') {
          throw new Error(`decided ${JSON.stringify(decision)}`);
        }
      });
    // The revision is the claim's, even once its own expiry has passed.
    spec
      .given({ ...open, claim: { ...claim, status: 'expired' }, earlier: asked })
      .when(answer)
      .thenMatches(() => undefined);
    spec
      .given({ ...open, earlier: { ...asked, revisionDeadline: now } })
      .when(answer)
      .thenRefuses('REVISION_DEADLINE_PASSED', 'conflict');
  });

  it('refuses a payload that does not fit the task', () => {
    spec
      .given(open)
      .when({ ...answer, payload: { option: 'perhaps' } })
      .thenRefuses('OPTION_NOT_OFFERED', 'invalid');
  });
});

describe('media a hand-in references', () => {
  const mine: MediaView = { id: 'm1', uploaderId: me, kind: 'audio', submissionId: null };
  const media = decider(
    (
      state: { items: (MediaView | undefined)[]; resubmitting: string | null; expired?: string[] },
      type: 'audio' | 'image',
    ) => decideMedia(state.items, ['m1'], me, type, state.resubmitting, new Set(state.expired)),
  );

  it('must be the caller’s own, unattached, and of the task’s kind', () => {
    media
      .given({ items: [mine], resubmitting: null })
      .when('audio')
      .then([mine]);
    media
      .given({ items: [undefined], resubmitting: null })
      .when('audio')
      .thenRefuses('MEDIA_NOT_FOUND', 'unprocessable');
    media
      .given({ items: [{ ...mine, uploaderId: 'someone-else' }], resubmitting: null })
      .when('audio')
      .thenRefuses('MEDIA_NOT_FOUND');
    media
      .given({ items: [undefined], resubmitting: null, expired: ['m1'] })
      .when('audio')
      .thenRefuses('MEDIA_EXPIRED', 'unprocessable');
    media
      .given({ items: [{ ...mine, submissionId: 's9' }], resubmitting: null })
      .when('audio')
      .thenRefuses('MEDIA_ALREADY_ATTACHED', 'conflict');
    media
      .given({ items: [{ ...mine, submissionId: 's9' }], resubmitting: 's9' })
      .when('audio')
      .then([{ ...mine, submissionId: 's9' }]);
    media
      .given({ items: [mine], resubmitting: null })
      .when('image')
      .thenRefuses('MEDIA_KIND_MISMATCH', 'unprocessable');
  });
});
