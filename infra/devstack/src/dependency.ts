import type { Env } from './env.ts';
import type { ProcessExit } from './guarded-process.ts';

/** Options both resolvers take; each adds where its local server keeps data. */
export interface DependencyOptions {
  /** Port of the local server; a free one when omitted. */
  port?: number;
  /** Keep the data and reuse it on the next start. */
  persistent?: boolean;
  /** Receives the server's own log lines. */
  log?: (line: string) => void;
  /** Env variables holding a URL to use instead, first match wins. */
  envNames?: readonly string[];
  env?: Env;
  /** Try testcontainers when a container runtime answers. Default: when not persistent. */
  containers?: boolean;
}

/** A Postgres or NATS to use, wherever it came from; `stop()` stops what we started. */
export interface ResolvedDependency<Source extends string = string> {
  url: string;
  source: Source;
  stop(): Promise<void>;
  /** A server started here as a local process: its pid, and when it exits (for any reason). */
  process?: { pid: number | undefined; exited: Promise<ProcessExit> };
}
