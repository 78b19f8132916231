/**
 * `pnpm contracts:snapshot`: writes snapshots/<type>.json for every catalogued
 * event type that has none, and updates a snapshot when the change is
 * compatible (an additive optional field keeps the version). It refuses an
 * incompatible change: that needs a new vN+1 type instead.
 *
 * `--force <type>` overwrites one incompatible snapshot anyway. It exists for
 * a false alarm only (say, a zod upgrade rewrote a built-in format's pattern),
 * to be agreed in review: the snapshot diff shows exactly what was accepted.
 */
import { eventDefinitions } from '../src/catalog.ts';
import { checkCatalog } from '../src/compat/check-catalog.ts';
import { BREAKING_CHANGE_HINT, formatIncompatibilities } from '../src/compat/format-report.ts';
import { readSnapshots, writeSnapshot } from '../src/compat/snapshot-store.ts';

const forced = new Set<string>();
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index++) {
  const forcedType = args[index] === '--force' ? args[++index] : undefined;
  if (forcedType === undefined) {
    console.error(`usage: snapshot [--force <event type>]...  (unexpected "${args[index] ?? ''}")`);
    process.exit(2);
  }
  forced.add(forcedType);
}

let failed = false;
let refused = false;
for (const status of checkCatalog(eventDefinitions, readSnapshots())) {
  switch (status.status) {
    case 'unchanged':
      console.log(`  ${status.type}: unchanged`);
      break;
    case 'new':
      writeSnapshot(status.type, status.schema);
      console.log(`+ ${status.type}: snapshot written`);
      break;
    case 'compatible-change':
      writeSnapshot(status.type, status.schema);
      console.log(`~ ${status.type}: snapshot updated (compatible change)`);
      break;
    case 'incompatible':
      console.log(formatIncompatibilities(status.type, status.incompatibilities).join('\n'));
      if (forced.has(status.type)) {
        writeSnapshot(status.type, status.schema);
        console.log(`! ${status.type}: snapshot OVERWRITTEN despite the above (--force)`);
      } else {
        console.log(`  ${status.type}: snapshot left as it is`);
        refused = true;
      }
      break;
    case 'removed':
      console.log(
        `? ${status.type}: snapshotted but not in the catalog; delete snapshots/${status.type}.json only if it was never published or is retired`,
      );
      failed = true;
      break;
  }
}
for (const type of forced) {
  if (!eventDefinitions.some((definition) => definition.type === type))
    console.log(`? --force ${type}: not in the catalog`);
}
if (refused) console.log(`\n${BREAKING_CHANGE_HINT}`);
if (failed || refused) process.exitCode = 1;
