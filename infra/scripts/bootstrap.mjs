// Shared first step of `npm start` and `npm test`: makes a fresh clone runnable with only Node and npm.
// Plain Node, no dependencies: this runs before `pnpm install`.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const isCI = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const installMarker = path.join(repoRoot, 'node_modules', '.tessera-installed');

export function log(message) {
  console.log(`[bootstrap] ${message}`);
}

/** Runs a command in the repo with inherited output; its exit status, or null if it could not start. */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: repoRoot, stdio: 'inherit', ...options });
  if (result.error) return null;
  return result.status ?? 1;
}

function output(command, args) {
  const result = spawnSync(command, args, {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The command that runs pnpm 10: the installed one, a freshly installed one, or npx. */
function ensurePnpm() {
  const version = output('pnpm', ['--version']);
  if (version && Number(version.split('.')[0]) >= 10) return ['pnpm'];
  if (version) {
    log(`pnpm ${version} is too old for this lockfile: using npx -y pnpm@10`);
    return ['npx', '-y', 'pnpm@10'];
  }
  log('pnpm not found: npm i -g pnpm@10');
  if (run('npm', ['i', '-g', 'pnpm@10']) === 0 && output('pnpm', ['--version'])) return ['pnpm'];
  log('could not install pnpm globally: using npx -y pnpm@10');
  return ['npx', '-y', 'pnpm@10'];
}

/** package.json of the root and of every workspace package (pnpm-workspace.yaml globs like `services/*`). */
function manifests() {
  const files = ['package.json', 'pnpm-lock.yaml', 'pnpm-workspace.yaml', '.npmrc'].map((f) =>
    path.join(repoRoot, f),
  );
  const workspace = readFileSync(path.join(repoRoot, 'pnpm-workspace.yaml'), 'utf8');
  const block = workspace.match(/^packages:\s*\n((?:[ \t]+.*\n?)*)/m)?.[1] ?? '';
  for (const [, pattern] of block.matchAll(/^\s*-\s*['"]?([^'"\s#]+)['"]?/gm)) {
    const parent = path.join(repoRoot, pattern.replace(/\/\*$/, ''));
    if (!pattern.endsWith('/*')) files.push(path.join(parent, 'package.json'));
    else if (existsSync(parent)) {
      for (const entry of readdirSync(parent, { withFileTypes: true })) {
        if (entry.isDirectory()) files.push(path.join(parent, entry.name, 'package.json'));
      }
    }
  }
  return files.filter((file) => existsSync(file));
}

function installReason() {
  if (!existsSync(installMarker)) return 'dependencies not installed yet';
  const installedAt = statSync(installMarker).mtimeMs;
  const changed = manifests().find((file) => statSync(file).mtimeMs > installedAt);
  return changed && `${path.relative(repoRoot, changed)} changed since the last install`;
}

function ensureDependencies(pnpm) {
  const reason = installReason();
  if (!reason) return;
  const args = ['install', ...(isCI ? ['--frozen-lockfile'] : [])];
  log(`${reason}: ${[...pnpm, ...args].join(' ')}`);
  if (run(pnpm[0], [...pnpm.slice(1), ...args]) !== 0) fail('pnpm install failed');
  writeFileSync(installMarker, `${new Date().toISOString()}\n`);
}

// Same places as findNatsServer() in infra/devstack/src/nats.ts.
function findNatsServer() {
  const dirs = [
    ...(process.env.PATH ?? '').split(path.delimiter),
    '/usr/sbin',
    '/usr/local/bin',
    '/usr/bin',
    '/opt/homebrew/bin',
  ];
  return dirs.filter(Boolean).some((dir) => {
    try {
      accessSync(path.join(dir, 'nats-server'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

function ensureNatsServer() {
  if (process.env.NATS_URL || process.env.TEST_NATS_URL || findNatsServer()) return;
  const canApt =
    process.getuid?.() === 0 && existsSync('/etc/debian_version') && output('apt-get', ['--version']);
  if (canApt) {
    log('nats-server not found: apt-get install -y nats-server');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (
      run('apt-get', ['update'], { env }) === 0 &&
      run('apt-get', ['install', '-y', 'nats-server'], { env }) === 0
    ) {
      if (findNatsServer()) return;
    }
  }
  const howTo = [
    'nats-server (NATS with JetStream) is needed and was not found. Install it:',
    '  Debian/Ubuntu:  sudo apt-get install -y nats-server',
    '  macOS:          brew install nats-server',
    '  elsewhere:      https://github.com/nats-io/nats-server/releases (put nats-server on PATH)',
    'or set NATS_URL (tests: TEST_NATS_URL) to a running server started with -js.',
  ].join('\n');
  if (isCI) fail(howTo);
  console.warn(`[bootstrap] ${howTo}`);
}

function fail(message) {
  console.error(`[bootstrap] ${message}`);
  process.exit(1);
}

/** Ensures pnpm, the dependencies and nats-server; returns the command that runs pnpm. */
export function bootstrap() {
  const pnpm = ensurePnpm();
  ensureDependencies(pnpm);
  ensureNatsServer();
  return pnpm;
}
