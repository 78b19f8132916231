import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { createTokenVerifier, type Logger, type Role, type TokenVerifier } from '@tessera/service-kit';
import { decodeProtectedHeader, type JSONWebKeySet, type JWK, SignJWT } from 'jose';
import { type Kysely, sql } from 'kysely';
import type { IdentityDB } from '../db/schema.ts';
import {
  type KeyTimes,
  type KeyWindows,
  planRotation,
  prunableKeys,
  publishedKeys,
  rotationDue,
  signingKey,
} from '../domain/key-rotation.ts';
import { seal, unseal } from './encryption.ts';

export interface SigningKeysOptions {
  db: Kysely<IdentityDB>;
  /** Seals the private keys at rest. */
  encryptionKey: Buffer;
  issuer: string;
  audience: string;
  accessTokenTtlS: number;
  graceS: number;
  leadS: number;
  rotationIntervalS: number;
  clock: () => Date;
  logger: Logger;
  /** How stale this instance's copy of the key table may get (other instances rotate too). */
  cacheMs?: number;
}

export interface AccessClaims {
  sub: string;
  role: Role;
  /** The session (refresh family) a user token belongs to. */
  sid?: string;
  companyId?: string;
  scopes?: string[];
}

interface LoadedKey extends KeyTimes {
  publicJwk: JWK;
  /** Null when it cannot be decrypted with the configured key. */
  privateKey: KeyObject | null;
}

export interface KeyDescription {
  kid: string;
  state: 'pending' | 'active' | 'retired';
  published: boolean;
  created_at: string;
  activates_at: string;
  retired_at: string | null;
}

const LOCK = sql`select pg_advisory_xact_lock(hashtext('tessera-identity:signing-keys'))`;

/**
 * Identity's Ed25519 signing keys: stored in its database with the private halves sealed,
 * rotated with overlap (see domain/key-rotation.ts), cached in memory and re-read often enough
 * that several instances agree on which key signs.
 */
export class SigningKeys {
  readonly #options: SigningKeysOptions;
  #keys: LoadedKey[] = [];
  #loadedAt = -Infinity;
  #loading: Promise<void> | undefined;
  #verifier: { fingerprint: string; verifier: TokenVerifier } | undefined;
  #published: { fingerprint: string; etag: string } | undefined;

  constructor(options: SigningKeysOptions) {
    this.#options = options;
  }

  get windows(): KeyWindows {
    return { tokenTtlS: this.#options.accessTokenTtlS, graceS: this.#options.graceS };
  }

  /** At start: a key that signs exists (created on first boot) and can be decrypted. */
  async initialize(): Promise<void> {
    await this.maintain();
    const current = signingKey(this.#keys, this.#options.clock());
    if (!current?.privateKey) {
      throw new Error(
        `the signing key ${current?.kid ?? '(none)'} cannot be decrypted: is IDENTITY_KEY_ENCRYPTION_KEY the key it was sealed with?`,
      );
    }
  }

  /** Rotate when due, drop keys no token needs any more. Safe to run on every instance at once. */
  async maintain(): Promise<void> {
    await this.rotate({ onlyIfDue: true });
    await this.prune();
  }

  /**
   * Creates the next key. It is published at once and signs after the lead time (at once when
   * no key signs now); every key not yet retired retires when it starts signing.
   */
  async rotate(options: { leadS?: number; onlyIfDue?: boolean } = {}): Promise<string | null> {
    const { db, clock, rotationIntervalS } = this.#options;
    const kid = await db.transaction().execute(async (trx) => {
      await LOCK.execute(trx);
      const rows = await trx
        .selectFrom('signing_keys')
        .select(['kid', 'created_at', 'activates_at', 'retired_at'])
        .execute();
      const keys = rows.map(toTimes);
      const now = clock();
      if (options.onlyIfDue && !rotationDue(keys, now, rotationIntervalS)) return null;
      const leadS = signingKey(keys, now) ? (options.leadS ?? this.#options.leadS) : 0;
      const plan = planRotation(keys, now, leadS);
      for (const { kid, retiredAt } of plan.retire) {
        await trx.updateTable('signing_keys').set({ retired_at: retiredAt }).where('kid', '=', kid).execute();
      }
      const created = this.#generate(now);
      await trx
        .insertInto('signing_keys')
        .values({ ...created, created_at: now, activates_at: plan.activatesAt, retired_at: null })
        .execute();
      return created.kid;
    });
    if (kid) this.#options.logger.info({ kid }, 'signing key created');
    await this.reload();
    return kid;
  }

  async prune(): Promise<number> {
    const { db, clock } = this.#options;
    const removed = await db.transaction().execute(async (trx) => {
      await LOCK.execute(trx);
      const rows = await trx
        .selectFrom('signing_keys')
        .select(['kid', 'created_at', 'activates_at', 'retired_at'])
        .execute();
      const gone = prunableKeys(rows.map(toTimes), clock(), this.windows).map((k) => k.kid);
      if (gone.length) await trx.deleteFrom('signing_keys').where('kid', 'in', gone).execute();
      return gone;
    });
    if (removed.length) {
      this.#options.logger.info({ kids: removed }, 'retired signing keys removed');
      await this.reload();
    }
    return removed.length;
  }

  async reload(): Promise<void> {
    this.#loading ??= this.#load().finally(() => (this.#loading = undefined));
    await this.#loading;
  }

  /** The public keys of every key that may have signed a live token, or is about to sign. */
  jwks(): JSONWebKeySet {
    return { keys: publishedKeys(this.#keys, this.#options.clock(), this.windows).map((k) => k.publicJwk) };
  }

  /**
   * The JWKS as the route serves it, with a strong ETag over its content. From memory: the key
   * table is re-read at most once per `cacheMs` (see `refreshIfStale`), never per request.
   */
  publicJwks(): { body: JSONWebKeySet; etag: string } {
    const body: JSONWebKeySet = {
      keys: this.jwks().keys.map(({ kty, crv, x, kid, alg, use }) => ({ kty, crv, x, kid, alg, use })),
    };
    const fingerprint = JSON.stringify(body);
    if (this.#published?.fingerprint !== fingerprint) {
      const digest = createHash('sha256').update(fingerprint).digest('base64url').slice(0, 27);
      this.#published = { fingerprint, etag: `"${digest}"` };
    }
    return { body, etag: this.#published.etag };
  }

  /**
   * Re-reads the key table when this copy is older than `cacheMs`: a key rotated by another
   * instance or by the rotate-keys command (which signal nothing) shows within that bound, well
   * inside the publication lead. Concurrent callers share one read.
   */
  async refreshIfStale(): Promise<void> {
    await this.#fresh();
  }

  describe(): KeyDescription[] {
    const now = this.#options.clock();
    const current = signingKey(this.#keys, now);
    return this.#keys.map((k) => ({
      kid: k.kid,
      state: k === current ? 'active' : k.retiredAt === null ? 'pending' : 'retired',
      published: publishedKeys([k], now, this.windows).length > 0,
      created_at: k.createdAt.toISOString(),
      activates_at: k.activatesAt.toISOString(),
      retired_at: k.retiredAt?.toISOString() ?? null,
    }));
  }

  /** An access token (EdDSA JWT) signed by the current key. */
  async sign(
    claims: AccessClaims,
    options: { ttlS?: number } = {},
  ): Promise<{ token: string; expiresIn: number }> {
    await this.#fresh();
    const now = this.#options.clock();
    const key = signingKey(this.#keys, now);
    if (!key?.privateKey) throw new Error('no usable signing key');
    const ttlS = options.ttlS ?? this.#options.accessTokenTtlS;
    const iat = Math.floor(now.getTime() / 1000);
    const token = await new SignJWT({
      role: claims.role,
      ...(claims.sid ? { sid: claims.sid } : {}),
      ...(claims.companyId ? { company_id: claims.companyId, scopes: claims.scopes ?? [] } : {}),
    })
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'JWT' })
      .setIssuer(this.#options.issuer)
      .setAudience(this.#options.audience)
      .setSubject(claims.sub)
      .setIssuedAt(iat)
      .setExpirationTime(iat + ttlS)
      .setJti(randomUUID())
      .sign(key.privateKey);
    return { token, expiresIn: ttlS };
  }

  /**
   * Verifies with the kit's verifier over the published keys. A token naming a key this
   * instance has not seen yet (another instance rotated) triggers one re-read first.
   */
  async verify(token: string) {
    await this.#fresh();
    const kid = safeKid(token);
    if (kid && !this.#keys.some((k) => k.kid === kid) && Date.now() - this.#loadedAt > 1_000) {
      await this.reload();
    }
    const keys = this.jwks();
    const fingerprint = keys.keys.map((k) => k.kid).join(',');
    if (this.#verifier?.fingerprint !== fingerprint) {
      const verifier = createTokenVerifier({
        jwks: keys,
        issuer: this.#options.issuer,
        audience: this.#options.audience,
      });
      this.#verifier = { fingerprint, verifier };
    }
    return this.#verifier.verifier.verify(token);
  }

  async #fresh(): Promise<void> {
    if (Date.now() - this.#loadedAt > (this.#options.cacheMs ?? 15_000)) await this.reload();
  }

  async #load(): Promise<void> {
    const rows = await this.#options.db
      .selectFrom('signing_keys')
      .selectAll()
      .orderBy('activates_at')
      .execute();
    const known = new Map(this.#keys.map((k) => [k.kid, k]));
    this.#keys = rows.map((row) => ({
      ...toTimes(row),
      publicJwk: { ...(row.public_jwk as JWK), kid: row.kid, alg: 'EdDSA', use: 'sig' },
      privateKey: known.get(row.kid)?.privateKey ?? this.#decrypt(row.kid, row.private_key_encrypted),
    }));
    this.#loadedAt = Date.now();
  }

  #decrypt(kid: string, sealed: string): KeyObject | null {
    try {
      const der = unseal(this.#options.encryptionKey, sealed, `signing-key:${kid}`);
      return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch (error) {
      this.#options.logger.error({ err: error, kid }, 'cannot decrypt signing key');
      return null;
    }
  }

  #generate(now: Date): { kid: string; public_jwk: string; private_key_encrypted: string } {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const stamp = now.toISOString().slice(0, 10).replaceAll('-', '');
    const kid = `${stamp}-${randomBytes(6).toString('hex')}`;
    const { kty, crv, x } = publicKey.export({ format: 'jwk' });
    const der = privateKey.export({ format: 'der', type: 'pkcs8' });
    return {
      kid,
      public_jwk: JSON.stringify({ kty, crv, x }),
      private_key_encrypted: seal(this.#options.encryptionKey, der, `signing-key:${kid}`),
    };
  }
}

function toTimes(row: {
  kid: string;
  created_at: Date;
  activates_at: Date;
  retired_at: Date | null;
}): KeyTimes {
  return {
    kid: row.kid,
    createdAt: row.created_at,
    activatesAt: row.activates_at,
    retiredAt: row.retired_at,
  };
}

function safeKid(token: string): string | undefined {
  try {
    return decodeProtectedHeader(token).kid;
  } catch {
    return undefined;
  }
}
