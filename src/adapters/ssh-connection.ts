import type { Duplex } from 'node:stream';
import type { CommandResult } from '../checks/check.js';
import { ReefError } from '../errors.js';

const STDERR_LIMIT = 64 * 1024;
/** OpenSSH allows 10 sessions per connection (MaxSessions); stay below so no channel open is refused. */
const CHANNELS_PER_CONNECTION = 8;
const CLOSE_GRACE_MS = 2000;
/**
 * sshd frees a finished session a moment after the client sees its channel closed, so a burst of commands
 * can briefly meet MaxSessions ("open failed"): retried after 20, 40, … 640 ms.
 */
const OPEN_RETRIES = 6;
const OPEN_RETRY_MS = 20;

/** ssh2 ships no types; the parts of its Client and Channel used here. */
interface Ssh2Channel extends NodeJS.EventEmitter {
  stderr: NodeJS.EventEmitter;
  close(): void;
  signal(name: string): void;
}
export interface Ssh2Client extends NodeJS.EventEmitter {
  exec(command: string, callback: (error: Error | undefined, channel: Ssh2Channel) => void): void;
  forwardOut(
    srcIP: string,
    srcPort: number,
    dstIP: string,
    dstPort: number,
    callback: (error: Error | undefined, channel: Duplex) => void,
  ): void;
  end(): void;
  destroy(): void;
}

/** One ready SSH connection, with a bound on the channels open at once. */
export class SshConnection {
  private alive = true;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly closedPromise: Promise<void>;

  constructor(
    readonly name: string,
    private readonly client: Ssh2Client,
  ) {
    this.closedPromise = new Promise((resolve) =>
      client.once('close', () => {
        this.alive = false;
        resolve();
      }),
    );
  }

  /**
   * A channel to host:port opened by this host (which resolves the name): the socket for the next hop.
   * Forwarded channels are not sessions, so they take no slot.
   */
  forward(host: string, port: number, timeoutMs: number): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      this.client.forwardOut('127.0.0.1', 0, host, port, (error, channel) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(channel);
      });
    });
  }

  /**
   * Runs one command on its own channel. On timeout the caller gets its answer at once; the channel keeps
   * its slot until sshd closes it (sshd waits for a command that ignored the signal), at most CLOSE_GRACE_MS.
   */
  async run(
    command: string,
    onStdout: (chunk: Buffer) => void,
    timeoutMs: number,
  ): Promise<Omit<CommandResult, 'stdout'>> {
    const release = await this.acquire();
    return new Promise((resolve, reject) => {
      if (!this.alive) {
        release();
        return reject(this.lost());
      }
      let stderr = '';
      let code: number | null = null;
      let timedOut = false;
      let channel: Ssh2Channel | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        resolve({ code: null, stderr: `${stderr}killed after ${timeoutMs} ms`.trim() });
        if (!channel) return;
        // OpenSSH refuses signals for root logins (no post-auth privilege separation); then the command
        // runs on after the channel closes, which is why long commands are wrapped in `timeout` too.
        channel.signal('KILL');
        channel.close();
        setTimeout(release, CLOSE_GRACE_MS).unref();
      }, timeoutMs);
      const open = (attempt: number) =>
        this.client.exec(command, (error, opened) => {
          if (error) {
            if (!timedOut && this.alive && refusedForNow(error) && attempt < OPEN_RETRIES) {
              setTimeout(() => (timedOut ? release() : open(attempt + 1)), OPEN_RETRY_MS * 2 ** attempt);
              return;
            }
            clearTimeout(timer);
            release();
            return reject(
              this.alive
                ? new ReefError(
                    'reef_check_failed',
                    `${this.name} refused a command channel: ${error.message}`,
                    {
                      hint: 'sshd may limit sessions per connection (MaxSessions) or forbid commands for this key.',
                    },
                  )
                : this.lost(),
            );
          }
          channel = opened;
          opened.once('close', () => {
            clearTimeout(timer);
            release();
            if (timedOut) return;
            if (!this.alive && code === null) reject(this.lost());
            else resolve({ code, stderr });
          });
          if (timedOut) {
            opened.close();
            return;
          }
          opened.on('data', onStdout);
          opened.stderr.on('data', (chunk: Buffer) => {
            if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
          });
          opened.on('exit', (exitCode: number | null) => {
            code = typeof exitCode === 'number' ? exitCode : null;
          });
        });
      open(0);
    });
  }

  async end(): Promise<void> {
    if (!this.alive) return;
    this.client.end();
    const grace = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), CLOSE_GRACE_MS).unref());
    if ((await Promise.race([this.closedPromise, grace])) === 'late') this.client.destroy();
  }

  private lost(): ReefError {
    return new ReefError('reef_ssh_unreachable', `the SSH connection to ${this.name} was lost`, {
      hint: 'The host may have rebooted or dropped the connection; the next sweep reconnects.',
    });
  }

  /**
   * A channel slot; the returned release is idempotent. A freed slot passes straight to the next waiter,
   * so no newcomer can slip in between and exceed the bound.
   */
  private async acquire(): Promise<() => void> {
    if (this.active < CHANNELS_PER_CONNECTION) this.active++;
    else await new Promise<void>((r) => this.waiting.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}

/**
 * A CHANNEL_OPEN_FAILURE from a live server (it carries a reason code). OpenSSH answers a session over
 * MaxSessions with reason 2, "open failed"; nothing ran, so trying again is safe.
 */
function refusedForNow(error: Error): boolean {
  return typeof (error as { reason?: unknown }).reason === 'number';
}
