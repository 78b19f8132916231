// Test support: what screenWaiting needs, from a test's submissions service, for tests that
// screen by hand (the periodic worker off).
import { createLogger } from '@tessera/service-kit';
import { defaultFraudRules } from '../../fraud/decide.ts';
import type { TestSubmissions } from '../../testing/harness.ts';
import type { ScreeningDeps } from '../handle.ts';

export function screeningDeps(t: TestSubmissions): ScreeningDeps {
  return {
    db: t.service.db,
    storage: t.service.resources.storage,
    clock: () => new Date(),
    logger: createLogger({ name: 'screening-test', level: 'silent', pretty: false }),
    minImageSide: { width: 640, height: 480 },
    fraud: defaultFraudRules,
  };
}

/** A text task's input that the fixtures' sentences pass. */
export const textInput = { prompt: 'Describe the library', language: 'en', min_chars: 20, max_chars: 2000 };
