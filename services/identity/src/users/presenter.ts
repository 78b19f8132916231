import { z } from 'zod';
import type { UserRow } from '../db/users.ts';

export const userSchema = z.object({
  id: z.string(),
  email: z.string().nullable(),
  full_name: z.string().nullable(),
  role: z.enum(['contributor', 'company', 'admin']),
  status: z.enum(['active', 'suspended', 'erased']),
  suspension_reason: z.string().nullable(),
  email_verified: z.boolean(),
  profile: z.object({
    bio: z.string().nullable(),
    location: z.string().nullable(),
    country: z.string().nullable(),
    preferred_language: z.string().nullable(),
    languages: z.array(z.string()),
    avatar_url: z.string().nullable(),
  }),
  created_at: z.string(),
  updated_at: z.string(),
  last_login_at: z.string().nullable(),
});
export type UserResponse = z.infer<typeof userSchema>;

export function presentUser(user: UserRow): UserResponse {
  return {
    id: user.id,
    email: user.email,
    full_name: user.full_name,
    role: user.role,
    status: user.status,
    suspension_reason: user.status === 'suspended' ? user.suspension_reason : null,
    email_verified: user.email_verified_at !== null,
    profile: {
      bio: user.bio,
      location: user.location,
      country: user.country,
      preferred_language: user.preferred_language,
      languages: user.languages,
      avatar_url: user.avatar_url,
    },
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
    last_login_at: user.last_login_at?.toISOString() ?? null,
  };
}
