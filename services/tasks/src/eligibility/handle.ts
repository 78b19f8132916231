import type { Kysely } from 'kysely';
import type { TasksDB } from '../db/schema.ts';
import { normaliseLanguages } from './decide.ts';
import {
  deleteInvitationsOf,
  writeErasure,
  writeLevel,
  writeProfile,
  writeRoleOnce,
  writeStatus,
  writeTrust,
} from './repository.ts';

/**
 * The eligibility read model follows what identity and engagement say about a person: profile
 * (country, languages), account status, level and trust. `at` is the time of the event, which
 * keeps a late event from undoing a newer one.
 */

type Db = Kysely<TasksDB>;

export interface Profile {
  country: string | null;
  languages: readonly string[];
}

export async function contributorRegistered(
  trx: Db,
  userId: string,
  at: string,
  registration: Profile & { role: string },
): Promise<void> {
  await profileChanged(trx, userId, at, registration);
  await writeRoleOnce(trx, userId, registration.role);
}

export async function profileChanged(trx: Db, userId: string, at: string, profile: Profile): Promise<void> {
  await writeProfile(trx, userId, at, {
    country: profile.country,
    languages: normaliseLanguages(profile.languages),
  });
}

/** Whether the change applied: an event older than the status recorded changes nothing. */
export async function accountStatusChanged(
  trx: Db,
  userId: string,
  at: string,
  status: 'active' | 'suspended',
): Promise<boolean> {
  return writeStatus(trx, userId, at, status);
}

/** An erased person is forgotten: profile scrubbed, invitations withdrawn, never eligible again. */
export async function contributorErased(trx: Db, userId: string, at: string): Promise<void> {
  await writeErasure(trx, userId, at);
  await deleteInvitationsOf(trx, userId);
}

export async function levelChanged(trx: Db, userId: string, level: number, at: string): Promise<void> {
  await writeLevel(trx, userId, level, at);
}

export async function trustChanged(trx: Db, userId: string, trustScore: number, at: string): Promise<void> {
  // numeric(3,1): one decimal, as the contract says.
  await writeTrust(trx, userId, Math.round(trustScore * 10) / 10, at);
}
