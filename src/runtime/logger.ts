import { type Logger, pino } from 'pino';

/** Keys whose values never reach a log line, wherever they appear. */
export const REDACTED_KEYS = [
  'token',
  'password',
  'secret',
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.authorization',
];

/** Structured JSON logs on stderr (stdout belongs to the console surface and CLI output). */
export function createLogger(level: string, destination: number | NodeJS.WritableStream = 2): Logger {
  const stream =
    typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  return pino(
    { level, base: { app: 'reef' }, redact: { paths: REDACTED_KEYS, censor: '[redacted]' } },
    stream,
  );
}

export type { Logger };
