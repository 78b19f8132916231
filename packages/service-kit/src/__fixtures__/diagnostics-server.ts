// A process running the fixture service the way services/<name>/src/server.ts will.
import { loadConfig, serviceConfigSchema } from '../config.ts';
import { runService } from '../service.ts';
import { diagnostics } from './diagnostics-service.ts';

await runService(diagnostics, () => loadConfig(serviceConfigSchema));
