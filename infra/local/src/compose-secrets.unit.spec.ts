import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml carries no secret of its own: every one comes from the environment as
// `${VAR:?message}` (compose refuses to start without it), and .env.example documents each.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

interface ComposeService {
  environment?: Record<string, string | number | boolean | null>;
  ports?: string[];
  profiles?: string[];
  command?: string | string[];
  entrypoint?: string | string[];
}

/** A variable whose value is a secret, by its name. */
const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN|CREDENTIAL/;
// `$${X}` is an escape: the container’s shell expands it, not compose.
const INTERPOLATION = /(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}/g;
/**
 * Credentials in a URL anywhere in a value (`scheme://user:password@`), found once every `${…}`
 * is masked: a reference's message may hold spaces, and one value may list several URLs.
 */
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@,[\]]+:([^@\s]+)@/gi;
const MASKED_REFERENCE = /^⟦\d+⟧$/;

async function loadCompose(): Promise<{ text: string; services: Record<string, ComposeService> }> {
  const text = await readFile(`${repoRoot}/docker-compose.yml`, 'utf8');
  const parsed = parse(text, { merge: true }) as { services: Record<string, ComposeService> };
  // Comments may name variables as examples; only the configuration counts.
  const withoutComments = text.replace(/^\s*#.*$/gm, '');
  return { text: withoutComments, services: parsed.services };
}

/** The offending `service.VARIABLE`s: a secret not taken from a required environment variable. */
export function secretsWithDefaults(services: Record<string, ComposeService>): string[] {
  const offenders: string[] = [];
  for (const [name, service] of Object.entries(services)) {
    for (const [variable, raw] of Object.entries(service.environment ?? {})) {
      const value = String(raw ?? '');
      let index = 0;
      const masked = value.replace(INTERPOLATION, () => `⟦${index++}⟧`);
      const passwords = [...masked.matchAll(URL_CREDENTIALS)].map((match) => match[1] ?? '');
      const secretByName = SECRET_NAME.test(variable) && !variable.endsWith('_FILE');
      if (!secretByName && variable !== 'SMTP_URL' && passwords.length === 0) continue;
      const references = [...value.matchAll(INTERPOLATION)];
      const required = references.length > 0 && references.every((match) => match[2]?.startsWith(':?'));
      // A URL's password must itself be a (required) reference, not text around one.
      const passwordsAreReferences = passwords.every((password) => MASKED_REFERENCE.test(password));
      const onlyReference = passwords.length > 0 || /^\s*$/.test(value.replace(INTERPOLATION, ''));
      if (!required || !passwordsAreReferences || !onlyReference) offenders.push(`${name}.${variable}`);
    }
  }
  return offenders;
}

function requiredVariables(text: string): Set<string> {
  const names = new Set<string>();
  for (const match of text.matchAll(INTERPOLATION)) if (match[2]?.startsWith(':?')) names.add(match[1] ?? '');
  return names;
}

describe('docker-compose secrets', () => {
  it('takes every secret from a required variable, never a default', async () => {
    const { services } = await loadCompose();
    expect(secretsWithDefaults(services)).toEqual([]);
  });

  it('flags a default, a literal password in a URL and an optional reference', () => {
    expect(
      secretsWithDefaults({
        a: {
          environment: {
            X_KEY: '${X_KEY:-dev}',
            DATABASE_URL: 'postgres://u:u@db:5432/u',
            B_PASSWORD: '${B_PASSWORD}',
            C_SECRET: 'literal',
            OK_TOKEN: '${OK_TOKEN:?set it}',
            OK_URL: 'postgres://u:${P:?set it in .env (see .env.example)}@db/u',
            DEFAULTED_URL: 'postgres://u:${P:-dev pass}@db/u',
            SLASHED_URL: 'postgres://u:ab/c+d=@db/u',
            ROUTES: '[nats-route://r:${P:?set it}@n-1:6222, nats-route://r:literal@n-2:6222]',
            OK_ROUTES: '[nats-route://r:${P:?set it}@n-1:6222, nats-route://r:${P:?set it}@n-2:6222]',
          },
        },
      }),
    ).toEqual([
      'a.X_KEY',
      'a.DATABASE_URL',
      'a.B_PASSWORD',
      'a.C_SECRET',
      'a.DEFAULTED_URL',
      'a.SLASHED_URL',
      'a.ROUTES',
    ]);
  });

  it('never falls back to a default for a variable it also requires', async () => {
    const { text } = await loadCompose();
    const required = requiredVariables(text);
    const withDefault = [...text.matchAll(INTERPOLATION)]
      .filter((match) => required.has(match[1] ?? '') && !match[2]?.startsWith(':?'))
      .map((match) => match[0]);
    expect(withDefault).toEqual([]);
  });

  it('names in .env.example every variable compose requires, and nothing it does not use', async () => {
    const { text } = await loadCompose();
    const example = await readFile(`${repoRoot}/.env.example`, 'utf8');
    const documented = new Set(
      example
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined),
    );
    expect([...documented].sort()).toEqual([...requiredVariables(text)].sort());
    // No value is filled in: a copied example must not start a stack with shared secrets.
    expect(example.split('\n').filter((line) => /^[A-Z][A-Z0-9_]*=\S/.test(line))).toEqual([]);
  });

  it('keeps the dev mailbox out of a production start and off public interfaces', async () => {
    const { services } = await loadCompose();
    expect(services.mailpit?.profiles).toEqual(['dev']);
    for (const port of services.mailpit?.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });

  it('runs KurrentDB secure, NATS over TLS with a user per service, in production mode', async () => {
    const { services } = await loadCompose();
    const kurrent = services.kurrentdb?.environment ?? {};
    expect(kurrent.KURRENTDB_INSECURE).toBeUndefined();
    expect(kurrent.KURRENTDB_CERTIFICATE_FILE).toBeTypeOf('string');
    expect(JSON.stringify(services.kurrentdb)).not.toContain('insecure');
    for (const name of ['identity', 'tasks', 'submissions', 'qc', 'ledger', 'payouts', 'engagement']) {
      const env = services[name]?.environment ?? {};
      expect(env.NODE_ENV, name).toBe('production');
      expect(env.NATS_USER, name).toBe(name);
      expect(env.NATS_PASSWORD, name).toMatch(new RegExp(`^\\$\\{NATS_${name.toUpperCase()}_PASSWORD:\\?`));
      expect(env.NATS_TLS_CA, name).toBe('/etc/nats/certs/ca.pem');
      for (const url of String(env.NATS_URL).split(',')) expect(url, name).toMatch(/^tls:\/\//);
    }
    expect(services.gateway?.environment?.NODE_ENV).toBe('production');
  });
});
