import type { GatewayClient } from '../client.ts';
import { journeyActors } from '../journey/actors.ts';
import type { KnownIds } from './operations.ts';
import type { Role } from './run.ts';

// The fuzzer's cast, made through the gateway: one of each role, and a few real objects (a funded
// company with an active campaign and a task) whose ids the well-formed requests use.

export interface FuzzCast {
  roles: Role[];
  known: KnownIds;
}

export async function fuzzCast(
  client: GatewayClient,
  baseUrl: () => string,
  admin: { email: string; password: string },
): Promise<FuzzCast> {
  const actors = journeyActors(client, baseUrl);
  const adminSession = await client.logIn(admin.email, admin.password);
  const [contributor, judge, manager] = await Promise.all([
    actors.signUp('contributor', 'fuzz-contributor'),
    actors.signUp('contributor', 'fuzz-judge'),
    actors.signUp('company', 'fuzz-manager'),
  ]);
  await actors.appointJudge({ ...adminSession, email: admin.email }, judge);
  const companyId = await actors.fundedCompany(manager, { ...adminSession, email: admin.email }, 1_000_000);
  const campaignId = await actors.activeCampaign(manager, companyId, 100_000);
  const taskId = await actors.audioTask(manager, campaignId, { reward: 50, judgeFee: 5, xp: 10 });
  const apiKey = await actors.apiKeyToken(manager, companyId, ['campaigns:read']);
  const bearer = (token: string) => `Bearer ${token}`;
  return {
    roles: [
      { name: 'anonymous', session: false },
      { name: 'API key (campaigns:read)', authorization: bearer(apiKey), session: true },
      { name: 'contributor', authorization: bearer(contributor.token), session: true },
      { name: 'judge', authorization: bearer(judge.token), session: true },
      { name: 'company manager', authorization: bearer(manager.token), session: true },
      { name: 'admin', authorization: bearer(adminSession.token), session: true },
    ],
    // Objects, not users: a well-formed admin request must not suspend the cast itself.
    known: { id: [companyId, campaignId, taskId] },
  };
}

/** Operations that would end the fuzzer's own sessions; only roles without one send them. */
export const SESSION_ENDING = new Set(['POST /auth/logout', 'DELETE /api/v1/users/me']);
