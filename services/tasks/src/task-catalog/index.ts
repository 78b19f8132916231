// The task catalog: the tasks companies publish in their campaigns (typed input per task type,
// golden answers, requirements, reward), their changes and their status.
export { taskAccess } from './access.ts';
export * from './content.ts';
export * from './decide.ts';
export { completeTaskIfDone, taskNotFound } from './handle.ts';
export * from './present.ts';
export { listCampaignTasks, type TaskRecord } from './repository.ts';
export { taskRoutes } from './routes.ts';
