import type { Clock } from '../../adapters/clock.js';
import { errorMessage } from '../../errors.js';
import { platformError } from './slack-poster.js';

/** What the approver check needs from Slack: the members of a user group. */
export interface GroupMembers {
  members(groupId: string): Promise<string[]>;
}

export type ApproverCheck =
  | { ok: true; via: string }
  | {
      ok: false;
      /** For the ephemeral answer: what the clicker (or an admin) can do. */
      message: string;
    };

/**
 * Who may approve, dismiss and silence from Slack: the user ids in `slack.approvers.users`, and the
 * members of the user groups in `slack.approvers.groups` (resolved through `usergroups.users.list`,
 * cached for `ttlMs` so a burst of clicks costs one call per group). Nobody configured means nobody
 * may: Reef fails closed, and says how to fix it.
 */
export class Approvers {
  private readonly cache = new Map<string, { members: Set<string>; at: number }>();
  private readonly inflight = new Map<string, Promise<Set<string>>>();

  constructor(
    private readonly config: { users: readonly string[]; groups: readonly string[] },
    private readonly groups: GroupMembers,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly onError: (message: string) => void = () => {},
  ) {}

  get configured(): boolean {
    return this.config.users.length > 0 || this.config.groups.length > 0;
  }

  async check(userId: string): Promise<ApproverCheck> {
    if (this.config.users.includes(userId)) return { ok: true, via: 'slack.approvers.users' };
    const failures: string[] = [];
    for (const group of this.config.groups) {
      try {
        if ((await this.membersOf(group)).has(userId)) return { ok: true, via: `user group ${group}` };
      } catch (error) {
        const reason = platformError(error) ?? errorMessage(error);
        failures.push(`${group} (${reason})`);
        this.onError(`cannot read members of user group ${group}: ${reason}`);
      }
    }
    if (!this.configured)
      return {
        ok: false,
        message:
          'Nobody may approve from Slack yet: `slack.approvers` in reef.yaml is empty. Add user ids (`users: [U…]`) or user-group ids (`groups: [S…]`) there and restart Reef.',
      };
    const groupNote =
      failures.length > 0
        ? ` Reef could not read user group${failures.length === 1 ? '' : 's'} ${failures.join(', ')}: the app needs the usergroups:read scope.`
        : '';
    return {
      ok: false,
      message: `<@${userId}> is not a Reef approver. Ask an admin to add your member id (${userId}) to \`slack.approvers.users\` in reef.yaml, or you to one of its user groups.${groupNote}`,
    };
  }

  private async membersOf(group: string): Promise<Set<string>> {
    const cached = this.cache.get(group);
    const now = this.clock.now().getTime();
    if (cached && now - cached.at < this.ttlMs) return cached.members;
    let pending = this.inflight.get(group);
    if (!pending) {
      pending = this.groups
        .members(group)
        .then((ids) => {
          const members = new Set(ids);
          this.cache.set(group, { members, at: this.clock.now().getTime() });
          return members;
        })
        .finally(() => this.inflight.delete(group));
      this.inflight.set(group, pending);
    }
    return pending;
  }
}
