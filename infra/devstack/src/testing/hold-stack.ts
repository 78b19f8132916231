// Test fixture: starts a throwaway Postgres (and NATS, when the binary exists), prints their URLs as
// one JSON line, then idles until killed. Used to prove that nothing outlives a killed parent.
import { findNatsServer, startLocalNats } from '../nats.ts';
import { startEmbeddedPostgres } from '../postgres.ts';

const postgres = await startEmbeddedPostgres();
const natsServer = findNatsServer();
const nats = natsServer ? await startLocalNats(natsServer) : undefined;
console.log(JSON.stringify({ postgres: postgres.url, nats: nats?.url ?? null }));
setInterval(() => {}, 60_000);
