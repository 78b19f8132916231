// Rewrites the generated permissions block of infra/nats/nats.conf from src/permissions.ts.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withGeneratedBlock } from './permissions.ts';

export const natsConfPath = path.resolve(import.meta.dirname, '../nats.conf');

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  const before = await readFile(natsConfPath, 'utf8');
  const after = withGeneratedBlock(before);
  if (after === before) console.log('infra/nats/nats.conf is up to date');
  else {
    await writeFile(natsConfPath, after);
    console.log('infra/nats/nats.conf: permissions regenerated');
  }
}
