/**
 * Writes generated/asyncapi.yaml and generated/jsonschema/*.json from the zod
 * schemas in the catalog. Run `pnpm contracts:docs` after changing an event and
 * commit the result; a unit test fails while the checked-in files are stale.
 */
import { currentDocs, writeDocs } from '../src/docs/docs-files.ts';
import { GENERATED_DIR } from '../src/paths.ts';

const changed = writeDocs(currentDocs());
if (changed.length === 0) {
  console.log(`contracts docs: ${GENERATED_DIR} is up to date`);
} else {
  console.log(`contracts docs: updated ${GENERATED_DIR}`);
  for (const path of changed) console.log(`  ${path}`);
}
