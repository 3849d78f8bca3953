import { Writable } from 'node:stream';
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

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/**
 * Structured logs on stderr (stdout belongs to the console surface and CLI output): JSON lines for
 * machines, or, when stderr is a terminal (and LOG_FORMAT is not `json`), one readable line each.
 */
export function createLogger(
  level: string,
  options: { pretty?: boolean; stream?: NodeJS.WritableStream } = {},
): Logger {
  const pretty = options.pretty ?? (Boolean(process.stderr.isTTY) && process.env.LOG_FORMAT !== 'json');
  const target = options.stream ?? process.stderr;
  const stream = pretty
    ? prettyStream(target)
    : options.stream
      ? target
      : pino.destination({ fd: 2, sync: true });
  return pino(
    { level, base: { app: 'reef' }, redact: { paths: REDACTED_KEYS, censor: '[redacted]' } },
    stream,
  );
}

/** `03:00:01 INFO  sweep finished probed=3 durationMs=41` */
export function formatLogLine(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { level, time, msg, app: _app, pid: _pid, hostname: _host, ...rest } = record;
  const clock = new Date(Number(time)).toISOString().slice(11, 19);
  const fields = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${clock} ${(LEVELS[Number(level)] ?? String(level)).padEnd(5)} ${String(msg ?? '')}${fields ? ` ${fields}` : ''}`;
}

function prettyStream(target: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) target.write(`${formatLogLine(line)}\n`);
      callback();
    },
  });
}

export type { Logger };
