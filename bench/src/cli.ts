import { resolve } from 'node:path';
import { benchRoot } from './paths';
import { DEFAULT_TELEMETRY_SCENARIOS, TELEMETRY_CONFIGS, TELEMETRY_METRICS } from './telemetry';
import { BROKERS, SCENARIOS, type BrokerName, type ScenarioName } from './types';

export interface Options {
  brokers: BrokerName[];
  scenarios: ScenarioName[];
  quick: boolean;
  out: string;
  markdown: boolean;
  /** Show the tables of a saved JSON report instead of running. */
  from?: string;
  /** Reruns of a scenario that other processes disturbed; the last attempt is kept either way. */
  retries: number;
  /** Multiplies each scenario's messages and time limits: longer runs, steadier figures. */
  scale: number;
  /** The cost-of-telemetry mode: FluxMQ in each telemetry configuration, `rounds` times interleaved. */
  telemetry: boolean;
  rounds: number;
  /**
   * With `telemetry`: before each measured run, the same scenario at this scale on the same broker (0: none),
   * so that what is measured is a broker in its steady state, V8's compilation of its paths done.
   */
  warmUp: number;
  /** With `telemetry`: the keys of the configurations to run, `off` among them (default: all). */
  configurations: string[];
  /**
   * With `telemetry`: scrape /metrics this often (seconds) while a broker with metrics on runs, as the
   * stack's Prometheus does (prometheus/prometheus.yml); 0: never.
   */
  scrapeSeconds: number;
  /** The sampling mode: one broker, its sampling ratio switched between `ratios`; `phases` at the second. */
  samplingPhases: boolean;
  phases: number;
  ratios: [number, number];
}

export const USAGE = `Usage: npm run bench -- [options]
  --brokers <list>    comma-separated, of ${BROKERS.join(',')} (default: all)
  --scenarios <list>  comma-separated, of ${SCENARIOS.join(',')} (default: all)
  --quick             tiny loads for a smoke run (< 30 s)
  --out <file>        where to write JSON results (default: bench/results/latest.json)
  --markdown          print the Markdown table and update docs/benchmarks.md between its markers
  --retries <n>       rerun a scenario up to n times when other processes disturbed it (default: 2)
  --scale <n>         n times the messages and time limits of each scenario, for steadier figures (default: 1)
  --from <file>       print (with --markdown: and put in the docs) the tables of a saved JSON report
  --telemetry         cost of telemetry: FluxMQ with metrics and tracing off, metrics on, tracing at 0%,
                      1% and 100% sampling, interleaved; medians of the rounds (default scenarios:
                      ${DEFAULT_TELEMETRY_SCENARIOS.join(',')}; allowed: ${telemetryScenarios().join(',')};
                      JSON to bench/results/telemetry.json)
  --rounds <n>        with --telemetry: rounds of the configurations (default: 5; the targets' verdict
                      needs 5 or more, and 8 or more to narrow its interval below the rounds' range)
  --warm-up <n>       with --telemetry: before each measured run, the same scenario at --scale n on the
                      same broker, its clients closed after (default: 0, none): measures the broker's
                      steady state, without the one-off work of V8 compiling its paths
  --scrape <seconds>  with --telemetry: scrape /metrics this often while a broker with metrics on runs, as
                      the stack's Prometheus does (default: 5; 0: never)
  --configurations <list>
                      with --telemetry: which to run, comma-separated, of
                      ${TELEMETRY_CONFIGS.map((c) => c.key).join(',')} (default: all; off is
                      always run, as everything is compared with it); fewer make rounds shorter
  --sampling-phases <n>
                      sampling in one broker: FluxMQ with tracing on under a steady fan-in, its sampling
                      ratio switched through the admin API, n phases at the second ratio each between two
                      at the first (2 s each, times --scale); the median of the paired changes
                      (JSON to bench/results/sampling-phases.json)
  --ratios <a,b>      with --sampling-phases: the baseline ratio and the one measured (default: 0,0.01)
  --help              this text`;

export function parseArgs(argv: string[]): Options | 'help' {
  const options: Options = {
    brokers: [...BROKERS],
    scenarios: [...SCENARIOS],
    quick: false,
    out: resolve(benchRoot, 'results/latest.json'),
    markdown: false,
    retries: 2,
    scale: 1,
    telemetry: false,
    rounds: 5,
    warmUp: 0,
    configurations: TELEMETRY_CONFIGS.map((c) => c.key),
    scrapeSeconds: 5,
    samplingPhases: false,
    phases: 30,
    ratios: [0, 0.01],
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n\n${USAGE}`);
      return next;
    };
    given.add(flag);
    switch (flag) {
      case '--brokers':
        options.brokers = list(value(), BROKERS, flag);
        break;
      case '--scenarios':
        options.scenarios = list(value(), SCENARIOS, flag);
        break;
      case '--quick':
        options.quick = true;
        break;
      case '--out':
        options.out = userPath(value());
        break;
      case '--retries':
        options.retries = Number(value());
        if (!Number.isInteger(options.retries) || options.retries < 0) {
          throw new Error(`--retries needs a whole number ≥ 0\n\n${USAGE}`);
        }
        break;
      case '--scale':
        options.scale = Number(value());
        if (!Number.isInteger(options.scale) || options.scale < 1) {
          throw new Error(`--scale needs a whole number ≥ 1\n\n${USAGE}`);
        }
        break;
      case '--from':
        options.from = userPath(value());
        break;
      case '--markdown':
        options.markdown = true;
        break;
      case '--telemetry':
        options.telemetry = true;
        break;
      case '--rounds':
        options.rounds = Number(value());
        if (!Number.isInteger(options.rounds) || options.rounds < 1) {
          throw new Error(`--rounds needs a whole number ≥ 1\n\n${USAGE}`);
        }
        break;
      case '--warm-up':
        options.warmUp = Number(value());
        if (!Number.isInteger(options.warmUp) || options.warmUp < 0) {
          throw new Error(`--warm-up needs a whole number ≥ 0 (a scale)\n\n${USAGE}`);
        }
        break;
      case '--scrape':
        options.scrapeSeconds = Number(value());
        if (!(options.scrapeSeconds >= 0) || !Number.isFinite(options.scrapeSeconds)) {
          throw new Error(`--scrape needs a number of seconds ≥ 0\n\n${USAGE}`);
        }
        break;
      case '--configurations':
        options.configurations = list(
          value(),
          TELEMETRY_CONFIGS.map((c) => c.key),
          flag,
        );
        break;
      case '--sampling-phases':
        options.samplingPhases = true;
        options.phases = Number(value());
        if (!Number.isInteger(options.phases) || options.phases < 1) {
          throw new Error(`--sampling-phases needs a whole number of phases ≥ 1\n\n${USAGE}`);
        }
        break;
      case '--ratios': {
        const ratios = value().split(',').map(Number);
        if (ratios.length !== 2 || ratios.some((r) => !(r >= 0 && r <= 1)) || ratios[0] === ratios[1]) {
          throw new Error(`--ratios needs two different sample ratios from 0 to 1, e.g. 0,0.01\n\n${USAGE}`);
        }
        options.ratios = [ratios[0], ratios[1]];
        break;
      }
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option ${argv[i]}\n\n${USAGE}`);
    }
  }
  if (options.samplingPhases) return samplingPhasesOptions(options, given);
  return options.telemetry ? telemetryOptions(options, given) : plainOptions(options, given);
}

/**
 * One broker (FluxMQ), one load (fan-in), one run: only the phases, their length, the ratios and the output
 * file can change. No retries (a disturbance hits neighbouring phases alike) and no Markdown table.
 */
function samplingPhasesOptions(options: Options, given: Set<string>): Options {
  const refused = [
    '--telemetry',
    '--brokers',
    '--scenarios',
    '--rounds',
    '--warm-up',
    '--scrape',
    '--configurations',
    '--from',
    '--retries',
    '--markdown',
  ];
  const clash = refused.find((flag) => given.has(flag));
  if (clash) throw new Error(`${clash} does not go with --sampling-phases\n\n${USAGE}`);
  return {
    ...options,
    brokers: ['fluxmq'],
    scenarios: ['fan-in'],
    out: given.has('--out') ? options.out : resolve(benchRoot, 'results/sampling-phases.json'),
  };
}

function telemetryScenarios(): ScenarioName[] {
  return SCENARIOS.filter((name) => TELEMETRY_METRICS[name]);
}

/** Only FluxMQ has telemetry to switch, and only scenarios that move messages give tracing work. */
function telemetryOptions(options: Options, given: Set<string>): Options {
  if (given.has('--ratios')) throw new Error(`--ratios applies to --sampling-phases only\n\n${USAGE}`);
  if (given.has('--brokers') && options.brokers.join() !== 'fluxmq') {
    throw new Error('--telemetry measures FluxMQ only: leave out --brokers or give --brokers fluxmq');
  }
  const refused = options.scenarios.filter((name) => !TELEMETRY_METRICS[name]);
  if (given.has('--scenarios') && refused.length > 0) {
    throw new Error(
      `--telemetry: ${refused.join(',')} moves no messages, so tracing has nothing to cost there; ` +
        `choose some of ${telemetryScenarios().join(',')}`,
    );
  }
  return {
    ...options,
    // Every other configuration is compared with off, so off is run whether given or not.
    configurations: TELEMETRY_CONFIGS.map((c) => c.key).filter(
      (key) => key === 'off' || options.configurations.includes(key),
    ),
    brokers: ['fluxmq'],
    scenarios: given.has('--scenarios') ? options.scenarios : [...DEFAULT_TELEMETRY_SCENARIOS],
    out: given.has('--out') ? options.out : resolve(benchRoot, 'results/telemetry.json'),
  };
}

function plainOptions(options: Options, given: Set<string>): Options {
  for (const flag of ['--rounds', '--warm-up', '--scrape', '--configurations']) {
    if (given.has(flag)) throw new Error(`${flag} applies to --telemetry only\n\n${USAGE}`);
  }
  if (given.has('--ratios')) throw new Error(`--ratios applies to --sampling-phases only\n\n${USAGE}`);
  return options;
}

/** npm runs scripts in bench/; a relative path means relative to where the user typed the command. */
function userPath(path: string): string {
  return resolve(process.env['INIT_CWD'] ?? process.cwd(), path);
}

/** Keeps the canonical order whatever order the user typed, so tables always read the same. */
function list<T extends string>(raw: string, allowed: readonly T[], flag: string): T[] {
  const wanted = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  for (const name of wanted) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new Error(`${flag}: unknown "${name}", expected some of ${allowed.join(',')}`);
    }
  }
  const chosen = allowed.filter((name) => wanted.includes(name));
  if (chosen.length === 0) throw new Error(`${flag} needs at least one of ${allowed.join(',')}`);
  return chosen;
}
