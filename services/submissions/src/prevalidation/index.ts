export * from './audio.ts';
export * from './image.ts';
export * from './reasons.ts';
export * from './text.ts';
