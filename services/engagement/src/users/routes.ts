import { type HttpApp, isUuid, principalOf, refusal, refuse } from '@tessera/service-kit';
import { z } from 'zod';
import type { EngagementContext } from '../context.ts';
import { changeTimeZone, timeZoneOf } from './repository.ts';
import { isTimeZone } from './time-zone.ts';

const tags = ['engagement'];
const security = [{ bearerAuth: [] }];

/** The person behind a token: API keys act for a company, not for a person with days and streaks. */
export function personOf(request: Parameters<HttpApp['authenticate']>[0]): string {
  const principal = principalOf(request);
  if (principal.companyId !== undefined || !isUuid(principal.userId)) {
    throw refuse.forbidden('This is about a person: API keys have no progress, streaks or notifications.');
  }
  return principal.userId.toLowerCase();
}

const timeZoneBody = z.strictObject({ time_zone: z.string().min(1).max(64) });
const timeZoneReply = z.object({ time_zone: z.string() });

/** GET/PUT /api/v1/me/time-zone: the zone the caller's days (streaks, daily missions) count in. */
export function userRoutes(app: HttpApp, { db, clock }: EngagementContext): void {
  app.get(
    '/api/v1/me/time-zone',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'The time zone your streak days and daily missions count in (UTC until you set one)',
        security,
        response: { 200: timeZoneReply },
      },
    },
    async (request) => ({ time_zone: await timeZoneOf(db, personOf(request)) }),
  );

  app.put(
    '/api/v1/me/time-zone',
    {
      preHandler: app.authenticate,
      schema: {
        tags,
        summary: 'Set the IANA time zone (Europe/Paris) your days count in; 422 INVALID_TIME_ZONE otherwise',
        description:
          'Your days (streaks, daily missions) count in this zone. It may change once a day: a change ' +
          'within 24 hours of the last one is refused with 429 TIME_ZONE_CHANGED_RECENTLY (moving ' +
          'between zones around midnight would add days). The first choice is free; naming the zone ' +
          'already set answers 200 and changes nothing.',
        security,
        body: timeZoneBody,
        response: { 200: timeZoneReply },
      },
    },
    async (request) => {
      const userId = personOf(request);
      const { time_zone } = request.body;
      if (!isTimeZone(time_zone)) {
        throw refuse.unprocessable(
          'INVALID_TIME_ZONE',
          `${time_zone} is not an IANA time zone (e.g. Europe/Paris).`,
        );
      }
      const result = await changeTimeZone(db, userId, time_zone, clock());
      if (!result.changed && !result.sameZone) {
        throw refusal(
          'rate_limited',
          'TIME_ZONE_CHANGED_RECENTLY',
          `Your time zone changes at most once a day; the next change is possible from ${result.nextAt.toISOString()}.`,
        );
      }
      return { time_zone };
    },
  );
}
