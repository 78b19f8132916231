// Assignments: claims on a task's slots, and how each ends (submitted and judged, released,
// expired).
export * from './decide.ts';
export { expireDueAssignments } from './expiry.ts';
export { releaseUnusedFeeHolds } from './fee-holds.ts';
export { endClaim, makeOpenClaimsDue } from './handle.ts';
export { applyTransition, reserveSlot } from './repository.ts';
export { assignmentRoutes } from './routes.ts';
export {
  appealDecided,
  holdForAppeal,
  judgeFeeEarned,
  verdictFeesBooked,
  settleSubmission,
  type SubmissionOutcome,
} from './settle.ts';
