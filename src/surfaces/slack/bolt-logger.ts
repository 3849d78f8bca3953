import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { redactText } from '../../secrets/redact.js';

/**
 * Bolt, its receivers and the Web API client log through this: into Reef's pino logger (structured,
 * redacted, on stderr) under `component: slack/<name>`, instead of their own console logger.
 */
export function boltLogger(log: Logger, name = 'bolt'): SlackLogger {
  let child = log.child({ component: `slack/${name}` });
  let level = toSlackLevel(log.level);
  // Bolt logs request bodies and API results as text at debug level: pino's key-based redaction cannot
  // see into a string, so the text itself is redacted (only when the level is on: it costs a scan).
  const emit =
    (at: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]) => {
      if (!child.isLevelEnabled(at)) return;
      const text = msg
        .map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m)))
        .join(' ');
      child[at](redactText(text));
    };
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    // Reef's LOG_LEVEL rules; Bolt may ask, but it does not lower or raise Reef's level.
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: (next: string) => {
      child = log.child({ component: `slack/${next}` });
    },
  };
}

function toSlackLevel(level: string): LogLevel {
  switch (level) {
    case 'trace':
    case 'debug':
      return LogLevel.DEBUG;
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}
