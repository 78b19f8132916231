import type { Kysely, Transaction } from 'kysely';
import { parseAccountId } from '../domain/accounts.ts';
import type { RecordedEvent } from '../store/event-store.ts';
import {
  type AccountRow,
  type CampaignRow,
  type ProjectedEvent,
  type ProjectionChanges,
  type ProjectionState,
  type TransferRow,
  type WalletRow,
  accountKey,
  accountsToLoad,
  emptyChanges,
  emptyState,
  evolve,
  ownerKey,
  projectedEvent,
  transfersToLoad,
} from './evolve.ts';
import type { ProjectionTables } from './schema.ts';

type Db = Kysely<ProjectionTables> | Transaction<ProjectionTables>;

const CHUNK = 1_000;

/**
 * Folds a batch of stored events into the projection tables: loads the rows the batch touches,
 * evolves them in memory, writes back what changed. Run it inside the transaction that also moves
 * the checkpoint past the batch.
 */
export async function applyEvents(trx: Db, events: readonly RecordedEvent[]): Promise<void> {
  const projected = events
    .map(projectedEvent)
    .filter((event): event is ProjectedEvent => event !== undefined);
  if (projected.length === 0) return;
  const state = await load(trx, projected);
  const changes = emptyChanges();
  for (const event of projected) evolve(state, changes, event);
  await save(trx, state, changes);
}

async function load(db: Db, events: readonly ProjectedEvent[]): Promise<ProjectionState> {
  const state = emptyState();
  const transferIds = transfersToLoad(events);
  if (transferIds.length > 0) {
    const rows = await db.selectFrom('transfers').selectAll().where('id', 'in', transferIds).execute();
    for (const row of rows) state.transfers.set(row.id, toTransferRow(row));
  }

  const accounts = accountsToLoad(events, state.transfers);
  const users: [string, string][] = [];
  const campaigns: [string, string][] = [];
  for (const { account_id, currency } of accounts) {
    const identity = parseAccountId(account_id);
    if (identity?.kind === 'user_available' && identity.owner) users.push([identity.owner, currency]);
    if (identity?.kind === 'campaign_budget' && identity.owner) campaigns.push([identity.owner, currency]);
  }
  for (const chunk of chunks(accounts)) {
    const rows = await db
      .selectFrom('account_balances')
      .selectAll()
      .where((eb) =>
        eb(
          eb.refTuple('account_id', 'currency'),
          'in',
          chunk.map((a) => eb.tuple(a.account_id, a.currency)),
        ),
      )
      .execute();
    for (const row of rows) {
      state.accounts.set(accountKey(row.account_id, row.currency), {
        ...row,
        kind: row.kind as AccountRow['kind'],
        updated_at: iso(row.updated_at),
      });
    }
  }
  for (const chunk of chunks(users)) {
    const rows = await db
      .selectFrom('wallets')
      .selectAll()
      .where((eb) =>
        eb(
          eb.refTuple('user_id', 'currency'),
          'in',
          chunk.map(([u, c]) => eb.tuple(u, c)),
        ),
      )
      .execute();
    for (const row of rows) {
      state.wallets.set(ownerKey(row.user_id, row.currency), { ...row, updated_at: iso(row.updated_at) });
    }
  }
  for (const chunk of chunks(campaigns)) {
    const rows = await db
      .selectFrom('campaign_budgets')
      .selectAll()
      .where((eb) =>
        eb(
          eb.refTuple('campaign_id', 'currency'),
          'in',
          chunk.map(([c, k]) => eb.tuple(c, k)),
        ),
      )
      .execute();
    for (const row of rows) {
      state.campaigns.set(ownerKey(row.campaign_id, row.currency), {
        ...row,
        updated_at: iso(row.updated_at),
      });
    }
  }
  return state;
}

async function save(db: Db, state: ProjectionState, changes: ProjectionChanges): Promise<void> {
  const pick = <T>(map: ReadonlyMap<string, T>, keys: ReadonlySet<string>): T[] =>
    [...keys].map((key) => map.get(key)).filter((row): row is T => row !== undefined);

  for (const chunk of chunks(pick(state.transfers, changes.transfers))) {
    await db
      .insertInto('transfers')
      .values(chunk.map((t) => ({ ...t, metadata: JSON.stringify(t.metadata) })))
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          state: eb.ref('excluded.state'),
          resolved_at: eb.ref('excluded.resolved_at'),
        })),
      )
      .execute();
  }
  for (const chunk of chunks(pick(state.accounts, changes.accounts))) {
    await db
      .insertInto('account_balances')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['account_id', 'currency']).doUpdateSet((eb) => ({
          debits_posted: eb.ref('excluded.debits_posted'),
          credits_posted: eb.ref('excluded.credits_posted'),
          debits_pending: eb.ref('excluded.debits_pending'),
          credits_pending: eb.ref('excluded.credits_pending'),
          line_count: eb.ref('excluded.line_count'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const chunk of chunks(pick<WalletRow>(state.wallets, changes.wallets))) {
    await db
      .insertInto('wallets')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['user_id', 'currency']).doUpdateSet((eb) => ({
          available: eb.ref('excluded.available'),
          held: eb.ref('excluded.held'),
          total_earned: eb.ref('excluded.total_earned'),
          total_withdrawn: eb.ref('excluded.total_withdrawn'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const chunk of chunks(pick<CampaignRow>(state.campaigns, changes.campaigns))) {
    await db
      .insertInto('campaign_budgets')
      .values(chunk)
      .onConflict((oc) =>
        oc.columns(['campaign_id', 'currency']).doUpdateSet((eb) => ({
          company_id: eb.ref('excluded.company_id'),
          funded: eb.ref('excluded.funded'),
          spent: eb.ref('excluded.spent'),
          returned: eb.ref('excluded.returned'),
          remaining: eb.ref('excluded.remaining'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
  }
  for (const chunk of chunks(changes.lines)) {
    await db
      .insertInto('statement_lines')
      .values(chunk.map((line) => ({ ...line, metadata: JSON.stringify(line.metadata) })))
      .execute();
  }
}

function toTransferRow(row: {
  id: string;
  debit_account: string;
  credit_account: string;
  currency: string;
  amount: number;
  code: string;
  state: TransferRow['state'];
  expires_at: Date | null;
  metadata: Record<string, string>;
  created_at: Date;
  resolved_at: Date | null;
}): TransferRow {
  return {
    ...row,
    expires_at: row.expires_at ? iso(row.expires_at) : null,
    created_at: iso(row.created_at),
    resolved_at: row.resolved_at ? iso(row.resolved_at) : null,
  };
}

const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : value);

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}
