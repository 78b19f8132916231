export * from './envelope.ts';
export * from './define-event.ts';
export * from './catalog.ts';
export * from './routing.ts';
export * from './build-event.ts';
export * from './schemas.ts';
export * from './task-inputs.ts';
export { campaignPauseReasons, taskCloseReasons } from './events/tasks.ts';
