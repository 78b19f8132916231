/**
 * CI gate (`pnpm contracts:check`): every snapshotted event type is still in
 * the catalog and compatible with its snapshot, every catalogued type has an
 * up-to-date snapshot, and the generated docs are current. Exits 1 otherwise.
 */
import { eventDefinitions } from '../src/catalog.ts';
import { checkCatalog } from '../src/compat/check-catalog.ts';
import { BREAKING_CHANGE_HINT, formatIncompatibilities } from '../src/compat/format-report.ts';
import { readSnapshots } from '../src/compat/snapshot-store.ts';
import { currentDocs, docsDrift } from '../src/docs/docs-files.ts';

const statuses = checkCatalog(eventDefinitions, readSnapshots());
const lines: string[] = [];
let breaking = false;
for (const status of statuses) {
  switch (status.status) {
    case 'unchanged':
      lines.push(`✓ ${status.type}`);
      break;
    case 'new':
      lines.push(
        `✗ ${status.type}: new, not yet snapshotted. Run \`pnpm contracts:snapshot\` and commit snapshots/${status.type}.json`,
      );
      break;
    case 'compatible-change':
      lines.push(
        `✗ ${status.type}: compatible change not yet in its snapshot. Run \`pnpm contracts:snapshot\` and commit snapshots/${status.type}.json`,
      );
      break;
    case 'removed':
      lines.push(
        `✗ ${status.type}: snapshotted but no longer in the catalog. A published type stays catalogued while anyone may ` +
          `consume or replay it; if it was never published, or is retired on purpose, delete snapshots/${status.type}.json`,
      );
      break;
    case 'incompatible':
      breaking = true;
      lines.push(...formatIncompatibilities(status.type, status.incompatibilities));
      break;
  }
}

const drift = docsDrift(currentDocs());
const staleDocs = [...drift.missing, ...drift.outdated, ...drift.extra];
if (staleDocs.length > 0) {
  lines.push(
    `✗ generated docs are stale (${staleDocs.join(', ')}). Run \`pnpm contracts:docs\` and commit generated/`,
  );
}

console.log(`contracts check: ${eventDefinitions.length} event types`);
console.log(lines.join('\n'));
const failed = statuses.some((status) => status.status !== 'unchanged') || staleDocs.length > 0;
if (breaking) console.log(`\n${BREAKING_CHANGE_HINT}`);
if (failed) {
  console.log('\ncontracts check failed');
  process.exitCode = 1;
} else {
  console.log('contracts check passed');
}
