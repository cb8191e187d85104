import { resolve } from 'node:path';
import { benchRoot } from './paths';
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
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2) as [string, string | undefined];
    const value = (): string => {
      const next = inline ?? argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value\n\n${USAGE}`);
      return next;
    };
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
      case '--help':
      case '-h':
        return 'help';
      default:
        throw new Error(`unknown option ${argv[i]}\n\n${USAGE}`);
    }
  }
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
