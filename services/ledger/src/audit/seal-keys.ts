import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Logger } from '@tessera/service-kit';
import {
  keyIdOf,
  parsePrivateKey,
  parsePublicKey,
  privateKeyPem,
  publicKeyPem,
  type Seal,
  signSeal,
} from './seal.ts';
import { type AuditTables, SEAL_KEY_LOCK } from './tables.ts';

export interface SealSigner {
  readonly keyId: string;
  readonly publicKey: KeyObject;
  sign(body: { seq: number; hash: string; sealed_at: string }): Seal;
}

export function createSigner(privateKey: KeyObject): SealSigner {
  const publicKey = createPublicKey(privateKey);
  const keyId = keyIdOf(publicKey);
  return { keyId, publicKey, sign: (body) => signSeal(body, privateKey) };
}

export interface LoadSealSignerOptions {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  db: Kysely<any>;
  /** `LEDGER_SEAL_PRIVATE_KEY`: PEM (PKCS#8) or base64 of the PKCS#8 DER. */
  privateKey?: string | undefined;
  /** In production the key must come from config; elsewhere one is generated and kept in the DB. */
  production: boolean;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * The sealer's signing key. From config it is used as is and only its public half is recorded in
 * `audit_seal_keys`. Outside production, without config, a key is generated once and kept there
 * with its private half: convenient, but then whoever can write the database can also forge
 * seals, so seals prove nothing against the database's own operators (docs/audit.md).
 */
export async function loadSealSigner(options: LoadSealSignerOptions): Promise<SealSigner> {
  const db = options.db as Kysely<AuditTables>;
  const configured = options.privateKey?.trim();
  if (configured) {
    const signer = createSigner(parsePrivateKey(configured));
    await db
      .insertInto('audit_seal_keys')
      .values({ key_id: signer.keyId, public_key: publicKeyPem(signer.publicKey), private_key: null })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
    return signer;
  }
  if (options.production) throw new Error('LEDGER_SEAL_PRIVATE_KEY is required in production');

  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${SEAL_KEY_LOCK})`.execute(trx);
    const kept = await trx
      .selectFrom('audit_seal_keys')
      .select('private_key')
      .where('private_key', 'is not', null)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (kept?.private_key) return createSigner(parsePrivateKey(kept.private_key));
    const { privateKey } = generateKeyPairSync('ed25519');
    const signer = createSigner(privateKey);
    await trx
      .insertInto('audit_seal_keys')
      .values({
        key_id: signer.keyId,
        public_key: publicKeyPem(signer.publicKey),
        private_key: privateKeyPem(privateKey),
      })
      .execute();
    options.logger?.warn(
      { key_id: signer.keyId },
      'generated a development seal key and stored it in the database: seals do not protect against database operators',
    );
    return signer;
  });
}

export interface TrustedKey {
  keyId: string;
  publicKey: KeyObject;
  pem: string;
  createdAt: string | null;
}

export function trustedKey(publicKey: KeyObject, createdAt: string | null = null): TrustedKey {
  return { keyId: keyIdOf(publicKey), publicKey, pem: publicKeyPem(publicKey), createdAt };
}

/** Every public key that ever signed seals here (their ids are recomputed, not trusted). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function loadPublicKeys(anyDb: Kysely<any>): Promise<TrustedKey[]> {
  const db = anyDb as Kysely<AuditTables>;
  const rows = await db
    .selectFrom('audit_seal_keys')
    .select(['key_id', 'public_key', 'created_at'])
    .orderBy('created_at')
    .execute();
  return rows.map((row) => trustedKey(parsePublicKey(row.public_key), row.created_at.toISOString()));
}
