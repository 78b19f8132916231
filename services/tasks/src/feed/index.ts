// The feed: the tasks a contributor may do now, best first, one index walk per page.
export * from './cursor.ts';
export { contributorFeed } from './handle.ts';
export {
  FEED_SESSION_SETTINGS,
  type FeedFilters,
  feedQuery,
  feedRows,
  openFeedDatabase,
} from './repository.ts';
export { feedRoutes } from './routes.ts';
export { priorityScore } from './score.ts';
