import { expect } from 'vitest';
import { KeyObject, randomUUID, sign } from 'node:crypto';
import {
  buildEvent,
  type EventData,
  type EventType,
  subjectFor,
  type TesseraEvent,
} from '@tessera/contracts';
import { type Kysely, sql } from 'kysely';
import type { KitTables } from '../db/kit-migrations.ts';
import type { Role } from '../http/auth.ts';
import type { RunningService } from '../service.ts';
import { type createTestIssuer, waitFor, waitForHandled } from './index.ts';
import { readStream } from './stream.ts';

export interface InjectRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  token?: string;
  /** The Idempotency-Key header. */
  key?: string;
  body?: unknown;
  /** Any other request headers (a `traceparent`, say). */
  headers?: Record<string, string>;
}

export interface InjectResponse {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON for assertions
  body: any;
  headers: Record<string, unknown>;
}

type Issuer = Awaited<ReturnType<typeof createTestIssuer>>;

/** What a service's integration tests do to it from outside: HTTP, tokens, and events in and out. */
export interface ServiceTestClient {
  /** A user's access token as identity signs it. */
  token(claims?: { sub?: string; role?: Role }): Promise<string>;
  /** A token as identity issues to a company's API key: role company, `company_id` and `scopes`. */
  companyKeyToken(companyId: string, scopes: string[]): string;
  /**
   * An HTTP request through the app, retried while the kit sheds load (503 OVERLOADED), as it does
   * when the event loop lags on a busy test machine.
   */
  inject(request: InjectRequest): Promise<InjectResponse>;
  /** Publishes an event as its producer would (msgID = event id unless given). */
  publish(event: TesseraEvent, msgID?: string): Promise<void>;
  /** Publishes and waits until `consumer` committed its handling. */
  deliver(consumer: string, event: TesseraEvent, msgID?: string): Promise<void>;
  /** The service's published events (relayed from the outbox), optionally of one type. */
  published<T extends EventType>(type?: T): Promise<TesseraEvent<T>[]>;
  /**
   * The events of `type` the service wrote to its outbox (committed, relayed or not), oldest first,
   * whose `data[field]` is `value`: what a handler or route decided, without waiting for the relay.
   */
  written<T extends EventType>(type: T, field: string, value: string): Promise<TesseraEvent<T>[]>;
  /** Waits until at least `count` events of `type` matching `where` are on the service's stream. */
  awaitPublished<T extends EventType>(
    type: T,
    where?: (event: TesseraEvent<T>) => boolean,
    count?: number,
  ): Promise<TesseraEvent<T>[]>;
}

export function serviceTestClient<DB extends KitTables>(
  service: Pick<RunningService<DB>, 'app' | 'bus' | 'db'>,
  producer: string,
  issuer: Issuer,
): ServiceTestClient {
  const { app, bus, db } = service;
  const publish = async (event: TesseraEvent, msgID?: string) => {
    await bus.js.publish(subjectFor(event.type, bus.ns), JSON.stringify(event), { msgID: msgID ?? event.id });
  };
  const published = async <T extends EventType>(type?: T): Promise<TesseraEvent<T>[]> =>
    (await readStream(bus, producer))
      .map((message) => message.data as TesseraEvent<T>)
      .filter((event) => type === undefined || event.type === type);
  return {
    token: (claims = {}) => issuer.token(claims),
    companyKeyToken(companyId, scopes) {
      // Signed by hand (jose's signer is async) so that tests can build one inline.
      const now = Math.floor(Date.now() / 1000);
      const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
      const signed = `${encode({ alg: 'EdDSA', kid: issuer.jwks.keys[0]?.kid })}.${encode({
        sub: randomUUID(),
        role: 'company',
        company_id: companyId,
        scopes,
        jti: randomUUID(),
        iss: issuer.issuer,
        aud: issuer.audience,
        iat: now,
        exp: now + 600,
      })}`;
      const signature = sign(null, Buffer.from(signed), KeyObject.from(issuer.privateKey));
      return `${signed}.${signature.toString('base64url')}`;
    },
    async inject({ method = 'GET', url, token, key, body, headers = {} }) {
      for (let attempt = 1; ; attempt++) {
        const response = await app.inject({
          method,
          url,
          headers: {
            ...headers,
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(key ? { 'idempotency-key': key } : {}),
          },
          ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
        });
        const parsed: unknown = response.body ? response.json() : undefined;
        const overloaded =
          response.statusCode === 503 && (parsed as { code?: string })?.code === 'OVERLOADED';
        if (!overloaded || attempt === 20) {
          return { status: response.statusCode, body: parsed, headers: response.headers };
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    publish,
    async deliver(consumer, event, msgID) {
      await publish(event, msgID);
      await waitForHandled(db as unknown as Kysely<KitTables>, consumer, event.id);
    },
    published,
    async written(type, field, value) {
      const outbox = db as unknown as Kysely<KitTables>;
      const rows = await outbox
        .selectFrom('outbox')
        .select('payload')
        .where('type', '=', type)
        .where(sql<string>`payload->'data'->>${field}`, '=', value)
        .orderBy('position')
        .execute();
      return rows.map((row) => row.payload as TesseraEvent<typeof type>);
    },
    async awaitPublished(type, where = () => true, count = 1) {
      let found: TesseraEvent<typeof type>[] = [];
      await waitFor(
        async () => {
          found = (await published(type)).filter(where);
          return found.length >= count;
        },
        { what: `${count} × ${type}` },
      );
      return found;
    },
  };
}

/** Another service's event, as its producer would build it. */
export function foreignEvent<T extends EventType>(
  type: T,
  data: EventData<T>,
  subject?: string,
): TesseraEvent<T> {
  return buildEvent(type, data, { subject: subject ?? randomUUID() });
}

/**
 * The kit's admin-only routes (the dashboard summary, `ADMIN_SUMMARY_PATH`) as each service mounts
 * them: a contributor is refused with 403 FORBIDDEN, an anonymous caller with 401.
 */
export async function expectAdminsOnly(
  client: Pick<ServiceTestClient, 'inject' | 'token'>,
  url: string,
): Promise<void> {
  const contributor = await client.inject({ url, token: await client.token({ role: 'contributor' }) });
  expect([contributor.status, (contributor.body as { code?: string } | undefined)?.code]).toEqual([
    403,
    'FORBIDDEN',
  ]);
  expect((await client.inject({ url })).status).toBe(401);
}
