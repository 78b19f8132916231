import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { normalizePassword } from '../domain/password-policy.ts';
import { randomSecret } from '../domain/secrets.ts';

const ARGON2ID: Algorithm = 2;

/** argon2id hashing (OWASP's parameters by default: 19 MiB, 2 passes, 1 lane). */
export class Passwords {
  readonly #options: { algorithm: Algorithm; memoryCost: number; timeCost: number; parallelism: number };
  #dummy: Promise<string> | undefined;

  constructor(options: { memoryKib: number; timeCost: number }) {
    this.#options = {
      algorithm: ARGON2ID,
      memoryCost: options.memoryKib,
      timeCost: options.timeCost,
      parallelism: 1,
    };
  }

  hash(password: string): Promise<string> {
    return hash(normalizePassword(password), this.#options);
  }

  /**
   * Whether `password` matches `stored`. Without a stored hash (no such account) it still
   * verifies against a dummy one, so an unknown email costs the same time as a wrong password.
   */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    const target = stored ?? (await this.#dummyHash());
    try {
      const ok = await verify(target, normalizePassword(password));
      return ok && !!stored;
    } catch {
      return false;
    }
  }

  /** Whether a stored hash was made with other parameters than today's (then rehash at login). */
  needsRehash(stored: string): boolean {
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (!match) return true;
    const [, m, t, p] = match.map(Number);
    return m !== this.#options.memoryCost || t !== this.#options.timeCost || p !== this.#options.parallelism;
  }

  #dummyHash(): Promise<string> {
    this.#dummy ??= this.hash(randomSecret(24));
    return this.#dummy;
  }
}
