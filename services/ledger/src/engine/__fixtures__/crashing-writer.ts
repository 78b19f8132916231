/**
 * A process that sends the transfers given in TRANSFERS (JSON) to one engine on the Postgres store
 * at DATABASE_URL, all at once, and is killed (SIGKILL) right after the first batch's append
 * commits, before any caller is answered: the crash the batching writer must survive.
 */
import { createLedger } from '../ledger.ts';
import { createPostgresEventStore } from '../../store/postgres-store.ts';
import type { TransferRequest } from '../../domain/transfers.ts';

const url = process.env.DATABASE_URL;
const transfers = JSON.parse(process.env.TRANSFERS ?? '[]') as TransferRequest[];
if (!url || transfers.length === 0) throw new Error('DATABASE_URL and TRANSFERS are required');

const store = await createPostgresEventStore({ db: url });
const ledger = createLedger(store, {
  hooks: {
    afterAppend: (commands) => {
      process.stdout.write(`appended ${commands}\n`);
      process.kill(process.pid, 'SIGKILL');
    },
  },
});
await Promise.all(transfers.map((transfer) => ledger.transfer([transfer])));
process.stdout.write('answered\n');
