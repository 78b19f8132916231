import { decider } from '@tessera/service-kit/testing';
import { describe, it } from 'vitest';
import { decideNotOwnWork } from './decide.ts';

const adminId = '0190a000-0000-7000-8000-00000000000a';
const contributorId = '0190a000-0000-7000-8000-00000000000c';

describe('decideNotOwnWork (given an escalated case or an appeal, when an admin decides it)', () => {
  const spec = decider(decideNotOwnWork);

  it("accepts another contributor's work", () => {
    spec.given({ contributor_id: contributorId }).when(adminId).then(undefined);
  });

  it('refuses the admin their own submission (403 OWN_SUBMISSION), whatever the case of the id', () => {
    spec.given({ contributor_id: adminId }).when(adminId).thenRefuses('OWN_SUBMISSION', 'forbidden');
    spec
      .given({ contributor_id: adminId.toUpperCase() })
      .when(adminId)
      .thenRefuses('OWN_SUBMISSION', 'forbidden');
  });
});
