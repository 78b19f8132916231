import { describe, expect, it } from 'vitest';
import { compilingDb, sqlSnapshot } from '../testing/sql.ts';
import { reservationStatements } from './repository.ts';

describe("the claim's reservation, checked in", () => {
  it('is the SQL in __snapshots__/claim-reservation.sql (a change to it shows in review)', async () => {
    const { budget, slot } = reservationStatements(compilingDb(), {
      campaignId: '0195a0e2-7b1c-7d2e-8f00-00000000c001',
      taskId: '0195a0e2-7b1c-7d2e-8f00-00000000a001',
      hold: 250,
      now: new Date('2030-01-01T12:00:00.000Z'),
    });
    await expect(
      sqlSnapshot({
        'hold the reward and a quota unit of an active campaign that can still promise it': budget,
        'then take a free slot of the task': slot,
      }),
    ).toMatchFileSnapshot('__snapshots__/claim-reservation.sql');
  });

  it('holds nothing unless every condition holds at the moment of the update', () => {
    const { budget, slot } = reservationStatements(compilingDb(), {
      campaignId: '0195a0e2-7b1c-7d2e-8f00-00000000c001',
      taskId: '0195a0e2-7b1c-7d2e-8f00-00000000a001',
      hold: 250,
      now: new Date('2030-01-01T12:00:00.000Z'),
    });
    const campaign = budget.compile().sql;
    expect(campaign).toContain('"status" = $');
    expect(campaign).toContain(
      'funded_amount - spent_amount - returned_amount - reserved_amount - owed_amount >= $',
    );
    expect(campaign).toContain('"quota_taken" < "target_count"');
    expect(slot.compile().sql).toContain('"slots_taken" < "max_submissions"');
  });
});
