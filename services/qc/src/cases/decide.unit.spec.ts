import { decider } from '@tessera/service-kit/testing';
import { describe, expect, it } from 'vitest';
import { decideGolden, decideWaitingCase, type WaitingCase } from './decide.ts';

type Golden = ReturnType<typeof decideGolden>;
const approve: Golden = { verdict: 'approve', reasonCodes: [] };
const mismatch: Golden = { verdict: 'reject', reasonCodes: ['GOLDEN_MISMATCH'] };

describe("decideGolden (given a golden task's answer, when a contributor's answer arrives)", () => {
  const spec = decider(decideGolden);

  it('approves the golden option and rejects any other with GOLDEN_MISMATCH (validation)', () => {
    spec.given({ option: 'yes' }).when({ option: 'yes' }).then(approve);
    spec.given({ option: 'yes' }).when({ option: 'no' }).then(mismatch);
    // Options are labels: their case matters.
    spec.given({ option: 'yes' }).when({ option: 'Yes' }).then(mismatch);
  });

  it('compares RLHF preferences', () => {
    spec.given({ preferred: 'a' }).when({ preferred: 'a' }).then(approve);
    spec.given({ preferred: 'tie' }).when({ preferred: 'tie' }).then(approve);
    spec.given({ preferred: 'a' }).when({ preferred: 'b' }).then(mismatch);
    spec.given({ preferred: 'a' }).when({ preferred: 'tie' }).then(mismatch);
  });

  it('compares label sets as sets: order and repeats do not matter, a missing or extra label does', () => {
    spec
      .given({ labels: ['cat', 'dog'] })
      .when({ labels: ['dog', 'cat'] })
      .then(approve);
    spec
      .given({ labels: ['cat', 'dog'] })
      .when({ labels: ['dog', 'cat', 'dog'] })
      .then(approve);
    spec
      .given({ labels: ['cat', 'dog'] })
      .when({ labels: ['cat'] })
      .then(mismatch);
    spec
      .given({ labels: ['cat'] })
      .when({ labels: ['cat', 'bird'] })
      .then(mismatch);
  });

  it('compares linguasense free text ignoring case, punctuation and spacing', () => {
    spec.given({ answer: 'Heavy rain' }).when({ answer: '  heavy   RAIN!! ' }).then(approve);
    spec.given({ answer: "It's raining heavily." }).when({ answer: 'it s raining heavily' }).then(approve);
    spec.given({ answer: 'Heavy rain' }).when({ answer: 'heavy-rain' }).then(approve);
    spec.given({ answer: 'Heavy rain' }).when({ answer: 'Light rain' }).then(mismatch);
    // Punctuation separates words; it is not dropped between them.
    spec.given({ answer: 'Heavy rain' }).when({ answer: 'heavyrain' }).then(mismatch);
  });

  it('rejects an answer of another shape than the golden one', () => {
    spec.given({ option: 'a' }).when({ preferred: 'a' }).then(mismatch);
    spec
      .given({ answer: 'cat' })
      .when({ labels: ['cat'] })
      .then(mismatch);
  });

  it('cannot check (undefined: judges decide) without a golden answer or a contributor answer', () => {
    spec.given(null).when({ option: 'yes' }).then(undefined);
    spec.given({ option: 'yes' }).when(null).then(undefined);
    spec.given(null).when(null).then(undefined);
  });

  it('cannot check shapes it does not know (undefined)', () => {
    spec.given({ option: 'yes' }).when({ transcript: 'hello' }).then(undefined);
    spec.given({ rating: 3 }).when({ rating: 3 }).then(undefined);
    spec.given({ option: 1 }).when({ option: 1 }).then(undefined);
    spec.given({ preferred: 'c' }).when({ preferred: 'c' }).then(undefined);
    spec
      .given({ labels: ['cat', 2] })
      .when({ labels: ['cat', 2] })
      .then(undefined);
    spec.given({}).when({}).then(undefined);
  });
});

describe('decideWaitingCase (given an open case, when the case-escalation worker looks at it)', () => {
  const now = new Date('2030-01-03T12:00:00.000Z');
  const rules = { escalateAfterMs: 48 * 3_600_000 };
  const waiting = (values: Partial<WaitingCase> = {}): WaitingCase => ({
    waitingSince: new Date(now.getTime() - 3_600_000),
    liveLeases: 0,
    votesSubmitted: 1,
    votesWanted: 3,
    eligibleJudges: 15,
    ...values,
  });
  const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);

  it('lets a fresh case with judges enough left wait', () => {
    expect(decideWaitingCase(waiting(), now, rules)).toEqual({ kind: 'wait' });
  });

  it('escalates a case that waited the configured age, exactly at it and after', () => {
    expect(decideWaitingCase(waiting({ waitingSince: hoursAgo(48) }), now, rules)).toEqual({
      kind: 'escalate',
      reason: 'WAITED_TOO_LONG',
    });
    expect(decideWaitingCase(waiting({ waitingSince: hoursAgo(47.9) }), now, rules)).toEqual({
      kind: 'wait',
    });
  });

  it('escalates at once when fewer judges are left who could take it than votes it still wants (none included)', () => {
    for (const eligibleJudges of [0, 1]) {
      expect(decideWaitingCase(waiting({ eligibleJudges }), now, rules)).toEqual({
        kind: 'escalate',
        reason: 'NO_ELIGIBLE_JUDGES',
      });
    }
    expect(decideWaitingCase(waiting({ eligibleJudges: 2 }), now, rules)).toEqual({ kind: 'wait' });
  });

  it('never escalates while a judge holds a lease on it, however old and however few judges are left', () => {
    expect(
      decideWaitingCase(
        waiting({ liveLeases: 1, waitingSince: hoursAgo(500), eligibleJudges: 0 }),
        now,
        rules,
      ),
    ).toEqual({ kind: 'wait' });
  });

  it('leaves a case whose wanted votes are in to the consensus', () => {
    expect(
      decideWaitingCase(
        waiting({ votesSubmitted: 3, waitingSince: hoursAgo(500), eligibleJudges: 0 }),
        now,
        rules,
      ),
    ).toEqual({ kind: 'wait' });
  });
});
