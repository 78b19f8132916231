import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  type JSONWebKeySet,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { z } from 'zod';
import { type Refusal, refusal } from '../refusal.ts';

export const roles = ['contributor', 'company', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling, as proven by a verified access token. */
export interface Principal {
  /** The `sub` claim: a user id, or for a machine client the API key id. */
  userId: string;
  role: Role;
  tokenId: string;
  /** Set on tokens issued to a company's API key (`company_id` claim). */
  companyId?: string;
  /** What an API key's token may do (`scopes` claim). */
  scopes?: string[];
  /** The session a user's token belongs to (`sid` claim): what a logout or suspension revokes. */
  sessionId?: string;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

const claimsSchema = z.object({
  sub: z.string().min(1),
  role: z.enum(roles),
  jti: z.string().min(1),
  company_id: z.string().min(1).optional(),
  scopes: z.array(z.string().min(1)).optional(),
  sid: z.string().min(1).optional(),
});

/** What a token verifier has done: full verifications, answers from its cache, and its size. */
export interface TokenVerifierStats {
  verified: number;
  cached: number;
  size: number;
}

/**
 * Verifies identity's EdDSA access tokens against its JWKS (fetched and cached
 * by jose, refetched when an unknown `kid` appears, so key rotation just works).
 *
 * A token verified once is answered from memory for `cacheTtlMs` (60 s), never past its own `exp`:
 * a client sends the same token with every request for its whole life, and the signature check is
 * the largest single cost of a cheap request (about a tenth of the feed's CPU). The cache is keyed
 * by the whole token text, so a token altered in any byte is verified afresh; refusals are never
 * cached; at most `cacheSize` (10,000) tokens are held, the oldest dropped first. A key withdrawn
 * from the JWKS keeps its cached tokens working for at most `cacheTtlMs`, which is shorter than
 * jose's own JWKS cache (10 min) already allows for tokens of a key it holds. Revocation is not
 * this cache's concern: `withRevocationCheck` (read-models/revocations.ts) asks after every answer.
 */
export function createTokenVerifier(options: {
  issuer: string;
  audience: string;
  jwksUrl?: string;
  jwks?: JSONWebKeySet;
  /** Least time between two JWKS fetches (an unknown `kid` triggers one). */
  jwksCooldownMs?: number;
  /** How many verified tokens are remembered (0: none). */
  cacheSize?: number;
  /** How long a verified token is answered from memory, at most. */
  cacheTtlMs?: number;
  /** Now, in ms since the epoch (tests move it). */
  clock?: () => number;
}): TokenVerifier & { stats(): TokenVerifierStats } {
  let keys: JWTVerifyGetKey;
  if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else if (options.jwksUrl)
    keys = createRemoteJWKSet(new URL(options.jwksUrl), {
      cooldownDuration: options.jwksCooldownMs ?? 5_000,
      timeoutDuration: 3_000,
    });
  else throw new Error('createTokenVerifier needs jwksUrl or jwks');
  const cacheSize = options.cacheSize ?? 10_000;
  const cacheTtlMs = options.cacheTtlMs ?? 60_000;
  const clock = options.clock ?? Date.now;
  /** Verified tokens, oldest first, each with the moment it stops being answered from here. */
  const cache = new Map<string, { principal: Principal; until: number }>();
  const stats = { verified: 0, cached: 0 };

  async function verifyFully(token: string, now: number): Promise<{ principal: Principal; exp: number }> {
    let payload: { exp?: number };
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: ['EdDSA'],
        requiredClaims: ['sub', 'exp', 'jti'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      throw tokenProblem(error);
    }
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success)
      throw refusal('unauthenticated', 'TOKEN_INVALID', 'The access token lacks required claims.');
    const { sub, role, jti, company_id, scopes, sid } = claims.data;
    const principal: Principal = {
      userId: sub,
      role,
      tokenId: jti,
      ...(company_id !== undefined ? { companyId: company_id } : {}),
      ...(scopes !== undefined ? { scopes } : {}),
      ...(sid !== undefined ? { sessionId: sid } : {}),
    };
    return { principal, exp: payload.exp! * 1000 };
  }

  return {
    async verify(token) {
      const now = clock();
      const hit = cache.get(token);
      if (hit !== undefined) {
        if (now < hit.until) {
          stats.cached += 1;
          return copyOf(hit.principal);
        }
        cache.delete(token);
      }
      const { principal, exp } = await verifyFully(token, now);
      stats.verified += 1;
      if (cacheSize > 0) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(token, { principal, until: Math.min(exp, now + cacheTtlMs) });
      }
      return copyOf(principal);
    },
    stats: () => ({ ...stats, size: cache.size }),
  };
}

/** Each request gets a principal of its own: no route can change what the cache answers next. */
function copyOf(principal: Principal): Principal {
  return principal.scopes ? { ...principal, scopes: [...principal.scopes] } : { ...principal };
}

function tokenProblem(error: unknown): Refusal {
  if (error instanceof joseErrors.JWTExpired) {
    return refusal('unauthenticated', 'TOKEN_EXPIRED', 'The access token has expired; refresh it.');
  }
  if (
    error instanceof joseErrors.JWKSTimeout ||
    (error instanceof TypeError && /fetch/i.test(error.message))
  ) {
    return refusal('unavailable', 'AUTH_UNAVAILABLE', 'Tokens cannot be verified right now; retry shortly.');
  }
  return refusal('unauthenticated', 'TOKEN_INVALID', 'The access token is not valid.');
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** preHandler: requires a valid bearer token and sets `request.principal`. */
    authenticate: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/**
 * Decorates the app with `authenticate`. Without a verifier it fails closed:
 * every authenticated route answers 503 rather than letting anyone in.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenVerifier | undefined): void {
  app.decorateRequest('principal', null);
  // Who the caller is needs only the headers, so a route's authentication runs first (onRequest),
  // before its body is read, parsed or validated: an unauthenticated caller costs no parsing and
  // learns nothing of the route's schema (a forged token gets 401, not a 400 about the body).
  app.addHook('onRoute', (route) => {
    const handlers = [route.preHandler ?? []].flat();
    const authentication = handlers.filter(authenticates);
    if (authentication.length === 0) return;
    route.preHandler = handlers.filter((handler) => !authenticates(handler));
    route.onRequest = [...[route.onRequest ?? []].flat(), ...authentication] as typeof route.onRequest;
  });
  app.decorate(
    'authenticate',
    markAuthenticating(async (request: FastifyRequest) => {
      if (!tokens) {
        throw refusal(
          'unavailable',
          'AUTH_NOT_CONFIGURED',
          'This service cannot verify access tokens (no JWKS_URL).',
        );
      }
      const header = request.headers.authorization;
      const match = header ? /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header) : null;
      if (!match?.[1]) {
        throw refusal(
          'unauthenticated',
          'UNAUTHENTICATED',
          'Send an access token as "Authorization: Bearer <token>".',
        );
      }
      request.principal = await tokens.verify(match[1]);
    }),
  );
}

const AUTHENTICATES = Symbol('authenticates');

/** Marks a route hook that authenticates (and may authorise) from the headers alone. */
function markAuthenticating<T extends object>(hook: T): T {
  return Object.assign(hook, { [AUTHENTICATES]: true });
}

function authenticates(hook: unknown): boolean {
  return typeof hook === 'function' && (hook as { [AUTHENTICATES]?: boolean })[AUTHENTICATES] === true;
}

/** preHandler: authenticated and in one of the roles. */
export function requireRole(...allowed: Role[]) {
  return markAuthenticating(async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await request.server.authenticate(request, reply);
    if (!allowed.includes(principalOf(request).role)) {
      throw refusal('forbidden', 'FORBIDDEN', `This needs the role ${allowed.join(' or ')}.`);
    }
  });
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw refusal('unauthenticated', 'UNAUTHENTICATED', 'Authentication required.');
  return request.principal;
}

/** Ownership: the principal is the owner, or holds one of the overriding roles (e.g. admin). */
export function assertSelfOrRole(principal: Principal, ownerId: string, ...overriding: Role[]): void {
  if (principal.userId === ownerId || overriding.includes(principal.role)) return;
  throw refusal('forbidden', 'FORBIDDEN', 'This belongs to someone else.');
}
