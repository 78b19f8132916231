/**
 * What time it is, injected: domain rules take `now` as an argument, and whatever calls them reads
 * it from the service's clock, so a test can move time without sleeping.
 */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
