import type { ScenarioOutcome } from '../report.js';

/** What the runner passes every scenario. */
export interface ScenarioArgs {
  /** Small sizes, for trying the suite out on a busy machine. */
  quick: boolean;
  /** Overrides the scenario's device count(s). */
  devices: number[] | null;
  /** Client worker processes (besides any a scenario adds to freeze or kill). */
  workers: number;
  /** CONNECTs in flight per worker. */
  concurrency: number;
}

export interface Scenario {
  name: string;
  title: string;
  run(args: ScenarioArgs): Promise<ScenarioOutcome>;
}

export const table = (header: string[], align: string[], rows: (string | number)[][]) =>
  [`| ${header.join(' | ')} |`, `|${align.join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export const verdict = (met: boolean) => (met ? '**met**' : '**MISSED**');

/** Said of every scenario whose devices are provisioned after Loa booted (LoaDeployment.start). */
export const PROVISIONED_AFTER_BOOT =
  'Devices were inserted by SQL once Loa ran, so it holds no retained config for them and they connect quickly (the connect storm measures a restart).';
