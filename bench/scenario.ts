/**
 * One benchmark scenario: a file in `bench/` exporting a `Scenario`, listed in `run.ts`. A scenario owns
 * its stand-in servers and temp files and must release them before `run` settles, whether it succeeds or
 * not, and also as soon as `signal` aborts (the deadline passed; the runner then exits shortly after).
 */
export interface Scenario {
  /** What `npm run bench -- <name>` selects. */
  readonly name: string;
  readonly description: string;
  /** Hard limit for the whole scenario, set-up and clean-up included. */
  readonly deadlineMs: number;
  run(context: ScenarioContext): Promise<ScenarioReport>;
}

export interface ScenarioContext {
  log(line: string): void;
  signal: AbortSignal;
  /**
   * `npm run bench -- --quick`: a smoke run. The scenario shrinks its sizes (targets, days, file sizes,
   * iterations) so every scenario together finishes in a couple of minutes, but goes through the same code
   * paths and returns a table of the same shape. Its figures are not representative.
   */
  quick: boolean;
}

export interface ScenarioReport {
  /** A table for people; the first row is the header. */
  table: string[][];
  /** Lines printed under the table (set-up, goals, caveats). */
  notes: string[];
  /** Printed as one `BENCH_JSON {…}` line for machines. */
  figures: Record<string, unknown>;
}
