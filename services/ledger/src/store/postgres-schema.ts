import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';

export const EVENTS_CHANNEL = 'es_events';
/** SQLSTATE raised by `es_append` when a stream is not at its expected revision. */
export const WRONG_EXPECTED_REVISION = 'ES409';

/**
 * `es_streams` holds each stream's last revision: the row is what concurrent appends to a stream
 * serialise on (a conditional update or insert-on-conflict that touches no row is a refusal).
 * `es_events` is the log; `transaction_id` lets readers stay below the oldest transaction of this
 * database still running, so an event with a smaller position that commits late is never skipped.
 *
 * `es_append(request)` writes one multi-stream append in a single statement, so it is one round
 * trip and atomic on its own. It locks streams in name order (no deadlock between appends touching
 * the same streams in another order) and raises WRONG_EXPECTED_REVISION with the stream and its
 * actual revision as JSON detail. It does not NOTIFY: a notifying transaction holds a database-wide
 * lock through its commit (WAL flush included), which serialises every append (see postgres-store.ts).
 */
export const postgresEventStoreMigrations: Record<string, Migration> = {
  '0001_event_store': {
    async up(db: Kysely<unknown>) {
      await sql`
        create table es_streams (
          stream text primary key,
          revision bigint not null
        )`.execute(db);
      await sql`
        create table es_events (
          position bigserial primary key,
          transaction_id xid8 not null default pg_current_xact_id(),
          stream text not null,
          revision bigint not null,
          event_id uuid not null unique,
          type text not null,
          data jsonb not null,
          metadata jsonb not null,
          recorded_at timestamptz not null default now(),
          unique (stream, revision)
        )`.execute(db);
      await sql`create index es_events_global_order on es_events (transaction_id, position)`.execute(db);
      await esAppend({ create: 'create', waitWhenAhead: false }).execute(db);
    },
  },
  '0002_set_based_append': {
    // The same contract as es_append, with one statement per kind of expectation instead of one
    // loop iteration per stream: a batch of hundreds of streams costs a handful of statements. Its
    // fixed cost is higher (about 2x for 3 streams), so the store calls it for large appends only.
    async up(db: Kysely<unknown>) {
      await esAppendSet({ create: 'create', waitWhenAhead: false }).execute(db);
    },
  },
  '0003_wait_for_expected_revisions_ahead': {
    // A pipelined writer sends its next batch before the one in flight committed, expecting the
    // revisions that batch will leave. An expected revision ahead of the committed one is no longer
    // refused at once: the append waits for the stream's row lock (held by the batch in flight),
    // and the conditional update then checks the revision that batch left. Only an expectation
    // behind the committed revision (stale for sure) still fails without queueing.
    async up(db: Kysely<unknown>) {
      await esAppend({ create: 'create or replace', waitWhenAhead: true }).execute(db);
      await esAppendSet({ create: 'create or replace', waitWhenAhead: true }).execute(db);
    },
  },
  // Named to sort after every migration the ledger's database already ran (its set joins these to
  // the projections', messaging's and audit's, 0100-0310): Kysely refuses a database whose executed
  // migrations are not a prefix of the set in name order.
  '0400_set_based_append_through_the_index': {
    // es_append_set's check and update joined the request to es_streams on the stream alone, and
    // the planner, before es_streams was first analyzed or while its statistics lagged its growth,
    // scanned the whole table for each batch. Every lookup now also names the request's streams, so
    // es_streams is read through its key whatever the statistics say.
    async up(db: Kysely<unknown>) {
      await esAppendSet({ create: 'create or replace', waitWhenAhead: true }).execute(db);
    },
  },
};

// es_append's wait: an expectation ahead of the committed revision locks the row (waiting for the
// append in flight that holds it) and reads the revision that append left. A conditional update
// alone would not wait: it skips a row whose committed version does not match.
const WAIT_WHEN_AHEAD = `if found and actual < wanted::bigint then
                select s.revision into actual from es_streams as s where s.stream = target for update;
              end if;
              `;

interface AppendFunctionOptions {
  create: 'create' | 'create or replace';
  /** Migration 0003: an expected revision ahead of the committed one waits for the row lock. */
  waitWhenAhead: boolean;
}

/** `es_append`: one loop iteration per stream, the cheaper for a few streams. */
function esAppend({ create, waitWhenAhead }: AppendFunctionOptions) {
  return sql`
        ${sql.raw(create)} function es_append(p_request jsonb)
        returns table (request_index integer, last_revision bigint)
        language plpgsql as $$
        declare
          item record;
          target text;
          wanted text;
          event_count integer;
          new_last bigint;
          actual bigint;
          lasts bigint[] := array_fill(null::bigint, array[jsonb_array_length(p_request)]);
        begin
          for item in
            select value, ordinality::integer as index
            from jsonb_array_elements(p_request) with ordinality
            order by value->>'stream' collate "C"
          loop
            target := item.value->>'stream';
            wanted := item.value->>'expected';
            event_count := jsonb_array_length(item.value->'events');
            new_last := null;
            if wanted = 'no_stream' then
              insert into es_streams as s (stream, revision) values (target, event_count - 1)
                on conflict (stream) do nothing
                returning s.revision into new_last;
            elsif wanted = 'any' then
              insert into es_streams as s (stream, revision) values (target, event_count - 1)
                on conflict (stream) do update set revision = s.revision + event_count
                returning s.revision into new_last;
            elsif wanted = 'exists' then
              update es_streams as s set revision = s.revision + event_count
                where s.stream = target
                returning s.revision into new_last;
            else
              -- A stale expectation fails on the committed revision without queueing for the row
              -- lock behind other writers; the conditional update stays the actual check.
              select s.revision into actual from es_streams as s where s.stream = target;
              ${sql.raw(waitWhenAhead ? WAIT_WHEN_AHEAD : '')}if found and actual = wanted::bigint then
                update es_streams as s set revision = s.revision + event_count
                  where s.stream = target and s.revision = wanted::bigint
                  returning s.revision into new_last;
              end if;
            end if;
            if new_last is null then
              select s.revision into actual from es_streams as s where s.stream = target;
              raise exception using
                errcode = '${sql.raw(WRONG_EXPECTED_REVISION)}',
                message = format('stream %s is not at the expected revision', target),
                detail = json_build_object('stream', target, 'actual', actual)::text;
            end if;
            lasts[item.index] := new_last;
          end loop;
          -- Events go to the log in request order, whatever order the streams were locked in.
          insert into es_events (stream, revision, event_id, type, data, metadata)
            select r.value->>'stream', lasts[r.ordinality] - jsonb_array_length(r.value->'events') + e.ordinality,
              (e.value->>'id')::uuid, e.value->>'type', e.value->'data', coalesce(e.value->'metadata', '{}'::jsonb)
            from jsonb_array_elements(p_request) with ordinality as r
              cross join lateral jsonb_array_elements(r.value->'events') with ordinality as e
            order by r.ordinality, e.ordinality;
          return query select i - 1, lasts[i] from generate_subscripts(lasts, 1) as i;
        end
        $$`;
}

/** `es_append_set`: the same contract, a handful of statements whatever the number of streams. */
function esAppendSet({ create, waitWhenAhead }: AppendFunctionOptions) {
  return sql`
        ${sql.raw(create)} function es_append_set(p_request jsonb)
        returns table (request_index integer, last_revision bigint)
        language plpgsql as $$
        declare
          v_streams text[];
          v_expected text[];
          v_counts integer[];
          v_done text[];
          v_lasts bigint[];
          v_more_done text[];
          v_more_lasts bigint[];
          v_failed text;
          v_actual bigint;
        begin
          select array_agg(r.value->>'stream' order by r.value->>'stream' collate "C"),
                 array_agg(r.value->>'expected' order by r.value->>'stream' collate "C"),
                 array_agg(jsonb_array_length(r.value->'events') order by r.value->>'stream' collate "C")
            into v_streams, v_expected, v_counts
            from jsonb_array_elements(p_request) as r;

          -- A stale expectation fails on the committed state without queueing for row locks.
          select t.stream, s.revision into v_failed, v_actual
            from unnest(v_streams, v_expected) as t(stream, expected)
            -- Naming the streams again (here and in the update) makes es_streams read through its key.
            left join es_streams as s on s.stream = t.stream and s.stream = any(v_streams)
            where (t.expected = 'no_stream' and s.stream is not null)
               or (t.expected = 'exists' and s.stream is null)
               or (t.expected not in ('no_stream', 'exists', 'any')
                   and (s.stream is null or s.revision ${sql.raw(waitWhenAhead ? '>' : '<>')} t.expected::bigint))
            order by t.stream collate "C"
            limit 1;
          if v_failed is not null then
            raise exception using
              errcode = '${sql.raw(WRONG_EXPECTED_REVISION)}',
              message = format('stream %s is not at the expected revision', v_failed),
              detail = json_build_object('stream', v_failed, 'actual', v_actual)::text;
          end if;

          -- Existing streams are locked in name order, so appends sharing streams cannot deadlock.
          perform 1 from es_streams as s
            where s.stream = any(v_streams)
            order by s.stream collate "C"
            for update;

          with t as (
            select * from unnest(v_streams, v_expected, v_counts) as t(stream, expected, n)
          ), moved as (
            update es_streams as s set revision = s.revision + t.n
              from t
              where s.stream = t.stream
                and s.stream = any(v_streams)
                and (t.expected in ('exists', 'any')
                     or (t.expected <> 'no_stream' and s.revision = t.expected::bigint))
              returning s.stream, s.revision
          )
          select coalesce(array_agg(moved.stream), '{}'), coalesce(array_agg(moved.revision), '{}')
            into v_done, v_lasts from moved;

          with t as (
            select * from unnest(v_streams, v_expected, v_counts) as t(stream, expected, n)
          ), created as (
            insert into es_streams as s (stream, revision)
              select t.stream, t.n - 1 from t
                where t.expected = 'no_stream'
                order by t.stream collate "C"
              on conflict (stream) do nothing
              returning s.stream, s.revision
          )
          select coalesce(array_agg(created.stream), '{}'), coalesce(array_agg(created.revision), '{}')
            into v_more_done, v_more_lasts from created;
          v_done := v_done || v_more_done;
          v_lasts := v_lasts || v_more_lasts;

          -- 'any' on a stream that did not exist when locked: created, or appended to if a concurrent
          -- append created it meanwhile.
          with t as (
            select * from unnest(v_streams, v_expected, v_counts) as t(stream, expected, n)
          ), created as (
            insert into es_streams as s (stream, revision)
              select t.stream, t.n - 1 from t
                where t.expected = 'any' and not (t.stream = any(v_done))
                order by t.stream collate "C"
              on conflict (stream) do update set revision = s.revision + excluded.revision + 1
              returning s.stream, s.revision
          )
          select coalesce(array_agg(created.stream), '{}'), coalesce(array_agg(created.revision), '{}')
            into v_more_done, v_more_lasts from created;
          v_done := v_done || v_more_done;
          v_lasts := v_lasts || v_more_lasts;

          if cardinality(v_done) < cardinality(v_streams) then
            select t.stream into v_failed
              from unnest(v_streams) as t(stream)
              where not (t.stream = any(v_done))
              order by t.stream collate "C"
              limit 1;
            select s.revision into v_actual from es_streams as s where s.stream = v_failed;
            raise exception using
              errcode = '${sql.raw(WRONG_EXPECTED_REVISION)}',
              message = format('stream %s is not at the expected revision', v_failed),
              detail = json_build_object('stream', v_failed, 'actual', v_actual)::text;
          end if;

          -- Events go to the log in request order, whatever order the streams were locked in.
          return query
            with lasts as (
              select d.stream, d.last from unnest(v_done, v_lasts) as d(stream, last)
            ), requested as (
              select r.value, r.ordinality, l.last
                from jsonb_array_elements(p_request) with ordinality as r
                join lasts as l on l.stream = r.value->>'stream'
            ), written as (
              insert into es_events (stream, revision, event_id, type, data, metadata)
                select q.value->>'stream', q.last - jsonb_array_length(q.value->'events') + e.ordinality,
                  (e.value->>'id')::uuid, e.value->>'type', e.value->'data',
                  coalesce(e.value->'metadata', '{}'::jsonb)
                from requested as q
                  cross join lateral jsonb_array_elements(q.value->'events') with ordinality as e
                order by q.ordinality, e.ordinality
            )
            select (q.ordinality - 1)::integer, q.last from requested as q;
        end
        $$`;
}

class InlineProvider implements MigrationProvider {
  getMigrations(): Promise<Record<string, Migration>> {
    return Promise.resolve(postgresEventStoreMigrations);
  }
}

/** Brings the event store's tables up to date, tracked in `es_migrations` (apart from any service's). */
export async function migrateEventStore(db: Kysely<unknown>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: new InlineProvider(),
    migrationTableName: 'es_migrations',
    migrationLockTableName: 'es_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '';
    const reason = error instanceof Error ? error.message : JSON.stringify(error);
    throw new Error(`event store migration ${failed} failed: ${reason}`, { cause: error });
  }
}
