// Process entry: `node --import tsx services/identity/src/server.ts` (the local runner does this).
import { runService } from '@tessera/service-kit';
import { loadIdentityConfig } from './config.ts';
import { identityDefinition } from './service.ts';

await runService(identityDefinition(), () => loadIdentityConfig());
