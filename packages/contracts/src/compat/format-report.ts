import type { Incompatibility } from './incompatibility.ts';

export const BREAKING_CHANGE_HINT = [
  'A published event type never changes incompatibly: consumers built with its schema are running, and its',
  'events stay in the stream for replay. For a breaking change, define a new type `<...>.v<N+1>` beside the',
  'old one (keep publishing the old one until every consumer has moved), then run `pnpm contracts:snapshot`.',
  'Only an additive optional field (or a loosened constraint) keeps the version.',
].join('\n');

export function formatIncompatibilities(
  type: string,
  incompatibilities: readonly Incompatibility[],
): string[] {
  return [
    `✗ ${type}: ${incompatibilities.length} incompatible change${incompatibilities.length === 1 ? '' : 's'} with snapshots/${type}.json`,
    ...incompatibilities.map((i) => `    ${i.path}  [${i.kind}]  ${i.message}`),
  ];
}
