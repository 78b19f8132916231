// `npm start`: bootstrap, then the local runner (infra/local), which stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { bootstrap, repoRoot } from './bootstrap.mjs';

bootstrap();
const runner = spawn(process.execPath, ['--import', 'tsx', 'infra/local/src/main.ts'], {
  cwd: repoRoot,
  // The IPC channel lets the runner notice if this process dies without forwarding a signal.
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
});
// A terminal's Ctrl-C reaches the runner directly too; forwarding covers `kill <this pid>`.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => runner.kill(signal));
runner.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
