import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const exclude = ['**/node_modules/**', '**/dist/**'];

/**
 * Vitest's order, except that the e2e files starting a platform of their own run after those on the
 * shared one (e2e/platform.ts: sharedPlatform): each of them stops the shared platform, and a shared
 * file after it would start it again (some 25 s).
 */
class SharedPlatformFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ownPlatform = new Set(
      files.filter(
        (spec) =>
          spec.project.name === 'e2e' && !readFileSync(spec.moduleId, 'utf8').includes('sharedPlatform()'),
      ),
    );
    const sorted = await super.sort(files);
    return [
      ...sorted.filter((spec) => !ownPlatform.has(spec)),
      ...sorted.filter((spec) => ownPlatform.has(spec)),
    ];
  }
}

// Three projects: pure unit tests, integration tests against a real Postgres and NATS,
// and end-to-end journeys through the gateway of a running platform.
export default defineConfig({
  test: {
    // Vitest runs one file at a time on two cores (its default is cores − 1), but unit and
    // integration files mostly wait on Postgres and NATS, each file on its own database and subject
    // prefix: three at a time took CI's non-e2e files from 540 + 197 s to about 331 + 104 s here.
    // The e2e project still runs one file at a time (each starts the whole platform).
    maxWorkers: Math.max(3, availableParallelism() - 1),
    sequence: { sequencer: SharedPlatformFirst },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['**/*.unit.spec.ts'],
          exclude,
          // Some are CPU-heavy (audio encoding and decoding takes 1.8 s alone) and share the cores
          // with integration files: the limit catches a hang, not a slow machine.
          testTimeout: 15_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['**/*.int.spec.ts'],
          exclude,
          globalSetup: ['infra/devstack/src/vitest-global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['e2e/**/*.e2e.spec.ts'],
          exclude,
          globalSetup: ['infra/devstack/src/vitest-global-setup.ts', 'e2e/shared-platform-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
