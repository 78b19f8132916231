import {
  type HttpApp,
  idempotencyHeaders,
  idParams,
  isUuid,
  principalOf,
  refuse,
  runOnce,
  safeText,
  timestamp,
} from '@tessera/service-kit';
import { z } from 'zod';
import type { PayoutsContext } from '../context.ts';
import { keyedFingerprint } from './crypto.ts';
import { MAX_ACTIVE_METHODS } from './decide.ts';
import { addMethod, deleteMethod, listMethods } from './handle.ts';
import type { MethodRecord } from './repository.ts';
import { METHOD_TYPES, type MethodInput, NETWORKS } from './validation.ts';

const tags = ['payout methods'];
const security = [{ bearerAuth: [] }];

// Shape only (400 VALIDATION_FAILED); what the values must be is checked in validation.ts (422).
const field = (max: number) => z.string().max(max);
const accountName = safeText(140).pipe(z.string().min(1));

const BANK_SHAPES =
  'a bank account is either {account_name, iban} or {account_name, account_number, routing_number, country}';

const addBody = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('paypal'), email: field(320) }),
  z
    .strictObject({
      type: z.literal('bank_transfer'),
      account_name: accountName,
      iban: field(64).optional(),
      account_number: field(64).optional(),
      routing_number: field(64).optional(),
      /** ISO 3166-1 alpha-2. */
      country: field(8).optional(),
    })
    .superRefine((bank, context) => {
      const local = [bank.account_number, bank.routing_number, bank.country].filter((v) => v !== undefined);
      const byIban = bank.iban !== undefined && local.length === 0;
      const byAccount = bank.iban === undefined && local.length === 3;
      if (!byIban && !byAccount) context.addIssue({ code: 'custom', message: BANK_SHAPES });
    })
    .describe(BANK_SHAPES),
  z.strictObject({ type: z.literal('crypto_usdc'), wallet_address: field(128), network: z.enum(NETWORKS) }),
]);

type AddBody = z.infer<typeof addBody>;

function inputOf(body: AddBody): MethodInput {
  if (body.type !== 'bank_transfer') return body;
  const { account_name, iban, account_number, routing_number, country } = body;
  if (iban !== undefined) return { type: 'bank_transfer', account_name, iban };
  // The schema admits only the two shapes.
  return {
    type: 'bank_transfer',
    account_name,
    account_number: account_number!,
    routing_number: routing_number!,
    country: country!,
  };
}

/** What is shown of a method: never its details, only their masked form. */
const methodSchema = z.object({
  id: z.uuid(),
  type: z.enum(METHOD_TYPES),
  /** `j***@example.com`, `****1234`, `0x12…abcd (polygon)`. */
  masked: z.string(),
  /** When a withdrawal may first be paid to it (a method added after the first waits a cooldown). */
  usable_from: timestamp,
  created_at: timestamp,
});

const present = (method: MethodRecord) => ({
  id: method.id,
  type: method.type,
  masked: method.masked,
  usable_from: method.usableFrom.toISOString(),
  created_at: method.createdAt.toISOString(),
});

/**
 * Payout methods are a person's own: a contributor's (or an admin's, for themselves). A company
 * user or API key has none to keep.
 */
function ownerOf(request: Parameters<HttpApp['authenticate']>[0]): string {
  const principal = principalOf(request);
  const person = principal.role === 'contributor' || principal.role === 'admin';
  if (!person || principal.companyId !== undefined || !isUuid(principal.userId)) {
    throw refuse.forbidden('Payout methods are kept by contributors, for themselves; API keys have none.');
  }
  return principal.userId.toLowerCase();
}

/** POST/GET/DELETE /api/v1/payout-methods: the caller's own payout methods. */
export function methodRoutes(app: HttpApp, { db, clock, config }: PayoutsContext): void {
  const rules = {
    cooldownMs: config.PAYOUTS_METHOD_COOLDOWN_HOURS * 3_600_000,
    keyring: config.encryption,
  };

  app.post(
    '/api/v1/payout-methods',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Add a payout method: a PayPal email, a bank account, or a USDC wallet on an EVM chain',
        description:
          'The details are checked (422 with a code per field: INVALID_EMAIL, INVALID_IBAN, INVALID_COUNTRY, ' +
          'INVALID_ROUTING_NUMBER, INVALID_ACCOUNT_NUMBER, INVALID_WALLET_ADDRESS, INVALID_WALLET_CHECKSUM, ' +
          'WALLET_ADDRESS_NOT_CHECKSUMMED), encrypted at rest and never shown again: the answer holds a masked ' +
          'form. A wallet address must be EIP-55 checksummed (mixed case). Your first method is usable at once; ' +
          'any later one (a change is delete + add) from `usable_from`, after a cooldown.',
        security,
        headers: idempotencyHeaders,
        body: addBody,
        response: { 201: z.object({ method: methodSchema }) },
      },
    },
    async (request, reply) => {
      const userId = ownerOf(request);
      const now = clock();
      const call = {
        principalId: userId,
        operation: 'add-payout-method',
        key: request.headers['idempotency-key'],
        // Equality is all the key's check needs: a keyed fingerprint, not a plain hash of the details.
        body: { fingerprint: keyedFingerprint(rules.keyring, 'idempotency', JSON.stringify(request.body)) },
      };
      const created = await runOnce(db, call, now, 201, async (trx) => {
        const method = await addMethod(trx, { userId, input: inputOf(request.body), now }, rules);
        return { method: present(method) };
      });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/payout-methods',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Your payout methods (masked), newest first',
        description: `At most ${MAX_ACTIVE_METHODS} methods are kept at once, so the list is not paginated.`,
        security,
        response: { 200: z.object({ methods: z.array(methodSchema) }) },
      },
    },
    async (request) => {
      const userId = ownerOf(request);
      return { methods: (await listMethods(db, userId)).map(present) };
    },
  );

  app.delete(
    '/api/v1/payout-methods/:id',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary:
          'Delete one of your payout methods (409 METHOD_IN_USE while a withdrawal to it is under way)',
        description:
          'Its details are wiped. There is no update: to change a method, delete it and add the new one.',
        security,
        params: idParams,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      const userId = ownerOf(request);
      await db
        .transaction()
        .execute((trx) => deleteMethod(trx, { userId, methodId: request.params.id, now: clock() }));
      return reply.code(204).send(null);
    },
  );
}
