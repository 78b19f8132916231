import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials and the personal data we hold. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.password',
  '*.new_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.otp',
  '*.email',
];

/** Pretty lines in a terminal, JSON everywhere else (log shippers parse it). */
export function createLogger(options: { name: string; level?: string; pretty?: boolean }): Logger {
  const pretty = options.pretty ?? (process.stdout.isTTY && process.env.NODE_ENV !== 'production');
  const base: LoggerOptions = {
    name: options.name,
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return pretty
    ? pino({
        ...base,
        transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } },
      })
    : pino(base);
}
