// Process entry: `node --import tsx services/identity/src/server.ts` (the local runner does this).
import { runService } from '@tessera/service-kit';
import { loadIdentityConfig } from './config.ts';
import { createIdentityService } from './service.ts';

const identity = createIdentityService();
await runService(identity.definition, () => loadIdentityConfig(), { tokens: identity.tokens });
