import type { IdempotencyTables, KitTables } from '@tessera/service-kit';
import type { BadgeTables } from '../badges/tables.ts';
import type { BonusTables } from '../bonuses/tables.ts';
import type { CatalogTables } from '../catalog/tables.ts';
import type { LeaderboardTables } from '../leaderboards/tables.ts';
import type { MissionTables } from '../missions/tables.ts';
import type { NotificationTables } from '../notifications/tables.ts';
import type { ReferralTables } from '../referrals/tables.ts';
import type { StandingTables } from '../standing/tables.ts';
import type { UsersTables } from '../users/tables.ts';
import type { WebhookTables } from '../webhooks/tables.ts';

/** Engagement's database: the kit's tables and each capability's own. */
export type EngagementDB = KitTables &
  IdempotencyTables &
  UsersTables &
  CatalogTables &
  StandingTables &
  BadgeTables &
  BonusTables &
  LeaderboardTables &
  NotificationTables &
  WebhookTables &
  MissionTables &
  ReferralTables;
