import type { Capability } from './capability.ts';
import { badges } from './badges/index.ts';
import { bonuses } from './bonuses/index.ts';
import { catalog } from './catalog/index.ts';
import { leaderboards } from './leaderboards/index.ts';
import { missions } from './missions/index.ts';
import { notifications } from './notifications/index.ts';
import { referrals } from './referrals/index.ts';
import { standing } from './standing/index.ts';
import { users } from './users/index.ts';
import { webhooks } from './webhooks/index.ts';

/**
 * Engagement's capabilities, in the order an event is applied to them: the read models first
 * (users, catalog), then standing (XP, trust, streaks) and what builds on it (badges, leaderboards), the rewards built on it (missions,
 * held bonuses, referrals), and what tells people about it all (notifications, webhooks).
 */
export const capabilities: readonly Capability[] = [
  users,
  catalog,
  standing,
  badges,
  leaderboards,
  missions,
  bonuses,
  referrals,
  notifications,
  webhooks,
];
