import type { EventType } from '@tessera/contracts';
import type { EventHandler, HandlerMap } from '@tessera/service-kit';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { notify } from './notify.ts';
import { eraseUser, lastToldLevel } from './repository.ts';
import { eventTexts, levelChangedText } from './texts.ts';

/**
 * The events that tell a user something. A withdrawal the user requested or cancelled themselves
 * tells them nothing: they did it and saw the answer.
 */
export function notificationHandlers({ clock }: EngagementContext): HandlerMap<EngagementDB> {
  const handlers: Record<string, EventHandler<EngagementDB>> = {};
  for (const [type, text] of Object.entries(eventTexts) as [EventType, (data: unknown) => never][]) {
    handlers[type] = async (event, trx) => {
      await notify(trx, text(event.data), clock());
    };
  }
  return {
    ...(handlers as HandlerMap<EngagementDB>),
    'engagement.contributor.level-changed.v1': async (event, trx) => {
      const userId = event.data.user_id.toLowerCase();
      const previous = (await lastToldLevel(trx, userId)) ?? 1;
      const draft = levelChangedText(userId, event.data.level, previous, event.id);
      if (draft) await notify(trx, draft, clock());
    },
    'identity.user.erased.v1': (event, trx) => eraseUser(trx, event.data.user_id.toLowerCase()),
  };
}
