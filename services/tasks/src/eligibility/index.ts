// Who may do a task: the contributor's standing (a read model of identity and engagement) and the
// rules a claim checks and the feed applies in SQL.
export * from './decide.ts';
export * from './handle.ts';
export { ensureContributor, isInvited, standingFrom, standingOf } from './repository.ts';
