import {
  accept,
  type CompanyAccessPolicy,
  type Decision,
  decideCompanyAccess,
  type Membership,
  type Principal,
  refuse,
} from '@tessera/service-kit';

/** Company members read their campaigns' submissions; API keys need `submissions:read`. */
export const submissionsAccess: CompanyAccessPolicy = {
  readScopes: ['submissions:read'],
  writeScopes: ['submissions:review'],
  writeRoles: ['manager'],
  writeDetail: 'Only managers of this company and admins may do this.',
};

export const submissionNotFound = () => refuse.notFound('No such submission.', 'SUBMISSION_NOT_FOUND');

export interface SubmissionOwners {
  contributorId: string;
  companyId: string;
  /** Judges QC assigned to review it. */
  judgeIds: readonly string[];
}

/**
 * Who may read one submission: its contributor, the judges assigned to it, the members of the
 * campaign's company (with `submissions:read` for an API key), admins. Anyone else learns nothing,
 * not even that it exists.
 */
export function decideReadSubmission(
  principal: Principal,
  owners: SubmissionOwners,
  membership: Membership,
): Decision<void> {
  const userId = principal.userId.toLowerCase();
  if (principal.companyId === undefined) {
    if (
      principal.role === 'contributor' &&
      (userId === owners.contributorId || owners.judgeIds.includes(userId))
    ) {
      return accept(undefined);
    }
  }
  return decideCompanyAccess(
    principal,
    owners.companyId,
    membership,
    'read',
    submissionsAccess,
    submissionNotFound(),
  );
}
