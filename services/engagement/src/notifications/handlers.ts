import type { EventType } from '@tessera/contracts';
import {
  type EventHandler,
  type HandlerMap,
  REVOCATION_EVENT,
  revocationHandlers,
} from '@tessera/service-kit';
import type { EngagementContext } from '../context.ts';
import type { EngagementDB } from '../db/schema.ts';
import { endStreams, notify } from './notify.ts';
import { eraseUser, lastToldLevel } from './repository.ts';
import { eventTexts, levelChangedText, withdrawalHoldText } from './texts.ts';

const revokePrincipal = revocationHandlers<EngagementDB>()[REVOCATION_EVENT]!;

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
    // A withdrawal on hold while its user is suspended, and the hold lifted on reinstatement.
    'payouts.withdrawal.frozen.v1': async (event, trx) => {
      await notify(trx, withdrawalHoldText('on_hold', event.data, event.id), clock());
    },
    'payouts.withdrawal.unfrozen.v1': async (event, trx) => {
      await notify(trx, withdrawalHoldText('hold_lifted', event.data, event.id), clock());
    },
    'identity.user.erased.v1': async (event, trx) => {
      await eraseUser(trx, event.data.user_id.toLowerCase());
      await endStreams(trx, { userId: event.data.user_id });
    },
    // A suspended user's open streams end; they reopen only once reinstated (routes refuse them).
    'identity.user.suspended.v1': (event, trx) => endStreams(trx, { userId: event.data.user_id }),
    // A revoked session's streams end. The revocation is written here too (the kit's own handler, an
    // idempotent upsert; the kit's consumer writes it as well), so a stream opened once this commits
    // is refused by its revocation check: nothing falls between the NOTIFY and the table.
    'identity.principal.revoked.v1': async (event, trx) => {
      await revokePrincipal(event, trx);
      if (event.data.kind === 'session') await endStreams(trx, { sessionId: event.data.principal_id });
    },
  };
}
