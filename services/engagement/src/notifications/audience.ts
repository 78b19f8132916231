/** Who an announcement is for. */
export const audiences = ['contributors', 'companies', 'all'] as const;
export type Audience = (typeof audiences)[number];

/** The person reading: their role and when they registered (null when engagement never heard). */
export interface Reader {
  userId: string;
  role: string | null;
  registeredAt: Date | null;
}

/** The audiences that include someone of `role`: everyone gets `all`, and their role's own. */
export function audiencesOf(role: string | null): Audience[] {
  if (role === 'contributor') return ['all', 'contributors'];
  if (role === 'company') return ['all', 'companies'];
  return ['all'];
}

/**
 * Whether an announcement reaches a reader: its audience includes their role, and it was made
 * after they registered (a new account does not start with an inbox of old news; a user whose
 * registration engagement never saw gets every announcement of their audience).
 */
export function reaches(
  announcement: { audience: Audience; created_at: Date },
  reader: Pick<Reader, 'role' | 'registeredAt'>,
): boolean {
  return (
    audiencesOf(reader.role).includes(announcement.audience) &&
    (reader.registeredAt === null || announcement.created_at >= reader.registeredAt)
  );
}
