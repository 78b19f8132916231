import type { HandlerMap, Logger } from '@tessera/service-kit';
import type { Clock } from '@tessera/service-kit';
import type { SubmissionsDB } from '../db/schema.ts';
import type { VerdictRules } from './decide.ts';
import { applyVerdict } from './handle.ts';

/** QC's verdicts, applied once each (the kit's inbox) in the order they arrive. */
export function verdictHandlers(deps: {
  rules: VerdictRules;
  clock: Clock;
  logger: Logger;
}): HandlerMap<SubmissionsDB> {
  return {
    'qc.submission.verdict-reached.v1': async (event, trx) => {
      await applyVerdict(trx, event, deps.rules, deps.clock(), deps.logger);
    },
  };
}
