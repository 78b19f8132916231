import { z } from 'zod';

/** This capability's environment variables (merged into engagement's config). */
export const notificationVariables = {
  /**
   * How often an open notification stream gets a `: ping` comment. It must stay well below the
   * gateway's upstream body timeout (GATEWAY_UPSTREAM_TIMEOUT_MS, 30 s), which cuts a stream that
   * sent nothing for that long, and below the idle timeouts of proxies in between.
   */
  ENGAGEMENT_NOTIFICATION_HEARTBEAT_MS: z.coerce.number().int().min(50).max(25_000).default(15_000),
  /** Open streams one user may hold on one instance (tabs, devices); one more is refused with 429. */
  ENGAGEMENT_NOTIFICATION_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /** The wait before the LISTEN connection is opened again after it dropped. */
  ENGAGEMENT_NOTIFICATION_LISTEN_RETRY_MS: z.coerce.number().int().min(10).max(60_000).default(1_000),
};
