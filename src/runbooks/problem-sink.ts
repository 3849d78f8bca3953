import { formatPath } from '../config/load.js';
import type { RunbookProblem } from './runbook.js';

/** Collects problems for one file, each placed at the line of its field. */
export class ProblemSink {
  readonly problems: RunbookProblem[] = [];
  constructor(
    readonly file: string,
    private readonly lineOf: (path: readonly PropertyKey[]) => number = () => 1,
  ) {}
  error(at: readonly PropertyKey[], message: string): void {
    this.add('error', at, message);
  }
  warn(at: readonly PropertyKey[], message: string): void {
    this.add('warning', at, message);
  }
  private add(severity: RunbookProblem['severity'], at: readonly PropertyKey[], message: string): void {
    this.problems.push({ severity, file: this.file, line: this.lineOf(at), path: formatPath(at), message });
  }
  get failed(): boolean {
    return this.problems.some((p) => p.severity === 'error');
  }
}
