import { oddTextReason, safeText } from '@tessera/service-kit';
import { z } from 'zod';
import { oddPasswordReason } from '../domain/text.ts';

/** A person's name: the kit's safe text, at most 200 characters, not empty once trimmed. */
export const name = safeText(200).min(1);

export const email = z.email().max(254);

/** A password as typed; its rules (length, common list) answer with their own codes. */
export const newPassword = z
  .string()
  .max(1024)
  .refine((value) => oddPasswordReason(value) === null, {
    error: (issue) => oddPasswordReason(issue.input as string) ?? 'is not acceptable',
  });

export const password = newPassword.min(1);

export const httpUrl = z
  .url({ protocol: /^https?$/ })
  .max(2048)
  .refine((value) => oddTextReason(value) === null, { error: 'is not a plain URL' });

export const countryCode = z
  .string()
  .regex(/^[A-Za-z]{2}$/, 'must be an ISO 3166-1 alpha-2 code such as "KE"')
  .toUpperCase();

export const languageTag = z
  .string()
  .min(2)
  .max(35)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, 'must be a BCP 47 language tag such as "en" or "pt-BR"');

export const sessionSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
});

export const bearer = [{ bearerAuth: [] }];
