/**
 * Signs access tokens the way identity does (EdDSA over Ed25519, its issuer and audience, a `sid`
 * session claim) and serves the public key as identity's JWKS on loopback, so a service started
 * with JWKS_URL pointing here verifies and authorises them through its real auth path. The benchmark
 * needs an admin token, not identity's logins, password hashing and sessions.
 */
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';

export interface TokenIssuer {
  jwksUrl: string;
  token(claims: { sub: string; role: 'admin' | 'company' | 'contributor' }): string;
  close(): Promise<void>;
}

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

export async function startTokenIssuer(
  options: { issuer?: string; audience?: string } = {},
): Promise<TokenIssuer> {
  const issuer = options.issuer ?? 'tessera-identity';
  const audience = options.audience ?? 'tessera';
  const kid = `bench-${randomUUID()}`;
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' }],
  });

  const server = createServer((request, response) => {
    if (request.url === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };

  return {
    jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    token({ sub, role }) {
      const now = Math.floor(Date.now() / 1000);
      const header = base64url({ alg: 'EdDSA', kid, typ: 'JWT' });
      const payload = base64url({
        sub,
        role,
        sid: randomUUID(),
        jti: randomUUID(),
        iss: issuer,
        aud: audience,
        iat: now,
        exp: now + 3600,
      });
      const signature = sign(null, Buffer.from(`${header}.${payload}`), privateKey).toString('base64url');
      return `${header}.${payload}.${signature}`;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
