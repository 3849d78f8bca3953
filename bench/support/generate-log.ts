import { closeSync, openSync, writeSync } from 'node:fs';

const MIB = 1024 * 1024;

/**
 * Writes about `bytes` of a log: `hours` of ISO-timestamped lines ending just before `endMs`, ERROR/FATAL
 * at `errorShare` and at `spikeErrorShare` in the last hour. Fast enough for a gigabyte in seconds: a
 * template covers ten seconds of log (enough lines for the share to be exact), its timestamps are
 * patched in place for each ten seconds, and the result is written in 8 MiB batches. Returns the lines.
 */
export function generateLog(
  file: string,
  options: { bytes: number; endMs: number; hours: number; errorShare: number; spikeErrorShare: number },
): number {
  const { bytes, hours } = options;
  const messages = [
    'INFO  http request served method=GET path=/api/v1/orders/4711 status=200 duration_ms=12 bytes=5123',
    'DEBUG cache lookup key=user:98431 hit=true age_ms=3021 shard=7',
    'INFO  worker job finished queue=mail id=8f3a61c2 attempts=1 took_ms=231',
    'WARN  slow query table=orders rows=1822 took_ms=1204 plan=seq-scan',
  ];
  const errors = [
    'ERROR payment failed order=58123 user=1001 reason="card declined" gateway=10.2.3.4:443',
    'ERROR upstream timeout service=inventory after_ms=3000 request_id=5f2c9e1a-0b7d-4c1e-9a55-3f6b2d8e4c10',
    'FATAL worker crashed pid=4123 signal=SIGSEGV restarts=3',
  ];
  const span = 10;
  const avgLine = 26 + messages.reduce((sum, m) => sum + m.length, 0) / messages.length;
  const perSecond = Math.max(1, Math.round(bytes / (hours * 3600 * avgLine)));
  const template = (share: number) => {
    const offsets: number[] = [];
    const seconds: number[] = [];
    let text = '';
    for (let i = 0; i < perSecond * span; i++) {
      const isError = Math.floor((i + 1) * share) > Math.floor(i * share);
      const message = isError ? errors[i % errors.length]! : messages[i % messages.length]!;
      const millis = String(Math.floor(((i % perSecond) * 1000) / perSecond)).padStart(3, '0');
      offsets.push(text.length);
      seconds.push(Math.floor(i / perSecond));
      text += `YYYY-MM-DDTHH:MM:SS.${millis}Z ${message}\n`;
    }
    return { buffer: Buffer.from(text, 'latin1'), offsets, seconds };
  };
  const normal = template(options.errorShare);
  const spike = template(options.spikeErrorShare);
  const fd = openSync(file, 'w');
  const batch: Buffer[] = [];
  let batched = 0;
  let lines = 0;
  try {
    for (let ago = hours * 3600; ago >= span; ago -= span) {
      const source = ago <= 3600 ? spike : normal;
      const stamps = Array.from({ length: span }, (_, j) =>
        new Date(options.endMs - (ago - j) * 1000).toISOString().slice(0, 19),
      );
      const chunk = Buffer.from(source.buffer);
      for (let i = 0; i < source.offsets.length; i++) {
        chunk.write(stamps[source.seconds[i]!]!, source.offsets[i]!, 'latin1');
      }
      batch.push(chunk);
      batched += chunk.length;
      lines += source.offsets.length;
      if (batched >= 8 * MIB) {
        writeSync(fd, Buffer.concat(batch));
        batch.length = 0;
        batched = 0;
      }
    }
    if (batch.length > 0) writeSync(fd, Buffer.concat(batch));
  } finally {
    closeSync(fd);
  }
  return lines;
}
