import type { Clock } from '../adapters/clock.js';
import { planProbes } from '../checks/registry.js';
import type { SweepResult } from '../checks/sweep.js';
import type { ReefConfig } from '../config/schema.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { type Finding, severityRank } from '../findings/finding.js';
import { parseDuration } from '../util/duration.js';
import { type Incident, isActive, transition } from './incident.js';
import type { IncidentStore } from './store.js';

/**
 * Turns sweep results into incident changes: a new problem opens an incident (announced once), a
 * persisting one updates it quietly (announced again only if it worsens), a target that answers
 * healthy resolves it. A fingerprint that keeps opening and resolving is reported once as flapping and
 * then stays quiet for the flap window.
 */
export class IncidentTracker {
  constructor(
    private readonly store: IncidentStore,
    private readonly clock: Clock,
  ) {}

  async ingest(result: Pick<SweepResult, 'findings' | 'only'>, config: ReefConfig): Promise<IncidentEvent[]> {
    const events: IncidentEvent[] = [];
    const flapWindowMs = parseDuration(config.incidents.flapWindow) ?? 86_400_000;
    const unhealthy = new Set<string>();
    const examined = new Set<string>();

    for (const finding of result.findings) {
      examined.add(targetKey(finding));
      if (finding.severity === 'ok') continue;
      unhealthy.add(finding.fingerprint);
      const event = await this.store.withLock(finding.fingerprint, () =>
        this.observeProblem(finding, config.incidents.flapThreshold, flapWindowMs),
      );
      if (event) events.push(event);
    }

    const configured = new Set(planProbes(config).map((p) => `${p.check.kind}\u0000${p.target.name}`));
    for (const incident of await this.store.current()) {
      if (unhealthy.has(incident.fingerprint)) continue;
      const key = targetKey(incident);
      const recovered = examined.has(key);
      const removed = result.only === null && !configured.has(key);
      if (!recovered && !removed) continue;
      const note = recovered ? 'target healthy again' : 'target no longer configured';
      const event = await this.store.withLock(incident.fingerprint, () => this.close(incident.id, note));
      if (event) events.push(event);
    }
    return events;
  }

  private async observeProblem(
    finding: Finding,
    flapThreshold: number,
    flapWindowMs: number,
  ): Promise<IncidentEvent | undefined> {
    const now = this.clock.now();
    const iso = now.toISOString();
    const current = await this.store.currentFor(finding.fingerprint);
    if (current) {
      const worsened = severityRank(finding.severity) > severityRank(current.severity);
      const updated: Incident = {
        ...current,
        severity: isActive(current) ? finding.severity : current.severity,
        summary: finding.summary,
        facts: finding.facts,
        lastSeenAt: finding.observedAt,
        updatedAt: iso,
        occurrences: current.occurrences + 1,
      };
      await this.store.save(updated);
      if (worsened && isActive(current) && !current.flapping) {
        return {
          type: 'worsened',
          incident: updated,
          at: iso,
          note: `${current.severity} → ${finding.severity}`,
        };
      }
      return undefined;
    }

    const openings = await this.store.recordOpening(finding.fingerprint, now, flapWindowMs);
    const flapping = openings >= flapThreshold;
    const incident: Incident = {
      id: await this.store.nextId(),
      fingerprint: finding.fingerprint,
      check: finding.check,
      target: finding.target,
      condition: finding.condition,
      state: 'open',
      severity: finding.severity,
      summary: finding.summary,
      facts: finding.facts,
      openedAt: iso,
      updatedAt: iso,
      lastSeenAt: finding.observedAt,
      occurrences: 1,
      openingsInWindow: openings,
      flapping,
      history: [{ at: iso, state: 'open' }],
    };
    await this.store.save(incident);
    if (!flapping) return { type: 'opened', incident, at: iso };
    if (await this.store.claimFlapReport(finding.fingerprint, flapWindowMs)) {
      return {
        type: 'flapping',
        incident,
        at: iso,
        note: `opened ${openings} times within ${Math.round(flapWindowMs / 3_600_000)}h; further changes stay quiet`,
      };
    }
    return undefined;
  }

  private async close(id: string, note: string): Promise<IncidentEvent | undefined> {
    const incident = await this.store.get(id);
    if (!incident) return undefined;
    const now = this.clock.now();
    if (!isActive(incident)) {
      await this.store.save(
        { ...incident, recoveredAt: now.toISOString(), updatedAt: now.toISOString() },
        { releaseFingerprint: true },
      );
      return undefined;
    }
    const resolved = transition(incident, 'resolved', now, { by: 'reef', note });
    await this.store.save(resolved, { releaseFingerprint: true });
    return resolved.flapping
      ? undefined
      : { type: 'resolved', incident: resolved, at: resolved.updatedAt, note };
  }
}

function targetKey(item: { check: string; target: string }): string {
  return `${item.check}\u0000${item.target}`;
}
