import type { Clock } from '../adapters/clock.js';
import { planProbes } from '../checks/registry.js';
import { type ProbeOutcome, probeKey } from '../checks/sweep.js';
import type { ReefConfig } from '../config/schema.js';
import type { IncidentEvent } from '../events/incident-event.js';
import { type Finding, PUSHED_CHECK_KINDS, severityRank } from '../findings/finding.js';
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

  /**
   * Folds probe outcomes into incidents. `only` is null for a full sweep (then incidents of probes no
   * longer configured resolve too); a probe that errored leaves its incidents as they are.
   */
  async ingest(
    input: { outcomes: readonly ProbeOutcome[]; only: string | null },
    config: ReefConfig,
  ): Promise<IncidentEvent[]> {
    const events: IncidentEvent[] = [];
    const flapWindowMs = parseDuration(config.incidents.flapWindow) ?? 86_400_000;
    const unhealthy = new Set<string>();
    const examined = new Map<string, { covers: Set<string> | undefined; seen: Set<string> }>();

    for (const outcome of input.outcomes) {
      if (outcome.status === 'error') continue;
      const key = probeKey(outcome.check, outcome.target);
      const entry = examined.get(key) ?? {
        covers: outcome.covers ? new Set<string>() : undefined,
        seen: new Set<string>(),
      };
      if (outcome.covers && entry.covers) for (const t of outcome.covers) entry.covers.add(t);
      else entry.covers = undefined;
      examined.set(key, entry);
      for (const finding of outcome.findings) {
        entry.seen.add(finding.target);
        if (finding.severity === 'ok') continue;
        unhealthy.add(finding.fingerprint);
        const event = await this.store.withLock(finding.fingerprint, () =>
          this.observeProblem(finding, outcome.target, config.incidents.flapThreshold, flapWindowMs),
        );
        if (event) events.push(event);
      }
    }

    const configured = new Set(planProbes(config).map((p) => probeKey(p.check.kind, p.name)));
    for (const incident of await this.candidates(input.outcomes)) {
      if (unhealthy.has(incident.fingerprint)) continue;
      const key = probeKey(incident.check, incident.probe ?? incident.target);
      const probe = examined.get(key);
      let note: string;
      if (probe) {
        if (probe.covers && !probe.covers.has(incident.target)) continue;
        note = probe.seen.has(incident.target) ? 'target healthy again' : 'target gone';
      } else if (input.only === null && !configured.has(key) && !PUSHED_CHECK_KINDS.has(incident.check)) {
        note = 'target no longer configured';
      } else continue;
      const event = await this.store.withLock(incident.fingerprint, () => this.close(incident.id, note));
      if (event) events.push(event);
    }
    return events;
  }

  /** Incidents these outcomes may resolve: only those of the covered targets when every outcome is narrow. */
  private async candidates(outcomes: readonly ProbeOutcome[]): Promise<Incident[]> {
    const narrow =
      outcomes.length > 0 && outcomes.every((o) => o.status !== 'error' && o.covers !== undefined);
    if (!narrow) return this.store.current();
    const byCheck = new Map<string, Set<string>>();
    for (const o of outcomes) {
      if (o.status === 'error' || !o.covers) continue;
      const set = byCheck.get(o.check) ?? new Set<string>();
      for (const t of o.covers) set.add(t);
      byCheck.set(o.check, set);
    }
    const found = await Promise.all(
      [...byCheck].map(([check, targets]) => this.store.currentForTargets(check, targets)),
    );
    return found.flat();
  }

  private async observeProblem(
    finding: Finding,
    probe: string,
    flapThreshold: number,
    flapWindowMs: number,
  ): Promise<IncidentEvent | undefined> {
    const now = this.clock.now();
    const iso = now.toISOString();
    const current = await this.store.currentFor(finding.fingerprint);
    if (current?.state === 'silenced' && Date.parse(current.silencedUntil ?? '') <= now.getTime()) {
      // The silence is over and the problem is still there: it is a new conversation, decided afresh.
      const reopened: Incident = {
        ...transition(current, 'open', now, { by: 'reef', note: 'silence ended; still failing' }),
        severity: finding.severity,
        summary: finding.summary,
        facts: finding.facts,
        lastSeenAt: finding.observedAt,
        occurrences: current.occurrences + 1,
      };
      delete reopened.silencedUntil;
      delete reopened.proposedRunbookId;
      await this.store.save(reopened);
      return { type: 'opened', incident: reopened, at: iso, note: 'silence ended; still failing' };
    }
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
      if (worsened && isActive(current) && !current.flapping && current.state !== 'silenced') {
        return {
          type: 'worsened',
          incident: updated,
          at: iso,
          note: `${current.severity} → ${finding.severity}`,
        };
      }
      return undefined;
    }

    // Observed before the last incident of this fingerprint closed (a slow sweep that started before a
    // watch event resolved it): stale news, not a new problem.
    const closedAt = await this.store.closedAt(finding.fingerprint);
    if (closedAt !== undefined && Date.parse(finding.observedAt) < closedAt) return undefined;
    const openings = await this.store.recordOpening(finding.fingerprint, now, flapWindowMs);
    const flapping = openings >= flapThreshold;
    const incident: Incident = {
      id: await this.store.nextId(),
      fingerprint: finding.fingerprint,
      check: finding.check,
      target: finding.target,
      probe,
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
