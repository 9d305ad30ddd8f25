/**
 * Where the consensus lab's results go (issue 7 §2): one directory per run with the JSON report, CSV tables
 * and SVG charts, and the run's metadata (seed, config, machine, versions, git commit) so it can be repeated.
 * Shared by the simulation and the process mode.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { arch, availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lab/ is two levels down). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** bench/out/consensus in the repository (bench/out is gitignored). */
export const DEFAULT_CONSENSUS_OUT_DIR = join(REPO_ROOT, 'bench', 'out', 'consensus');

export interface RunMetadata {
  readonly startedAt: string;
  readonly seed: number;
  readonly config: unknown;
  /** A command line that repeats the run, when the caller knows one. */
  readonly command: string | null;
  readonly machine: {
    readonly platform: string;
    readonly osRelease: string;
    readonly arch: string;
    readonly cpuModel: string;
    readonly cores: number;
    readonly availableParallelism: number;
    readonly memoryBytes: number;
    readonly loadAverage: readonly number[];
  };
  readonly versions: {
    readonly node: string;
    readonly v8: string;
    readonly medchain: string | null;
    /** Installed versions of medchain's declared dependencies (null: not installed). */
    readonly packages: Readonly<Record<string, string | null>>;
  };
  readonly git: { readonly commit: string | null; readonly dirty: boolean | null };
}

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // A missing or unreadable file is recorded as an unknown version, not a failed run.
    return null;
  }
}

function git(args: readonly string[]): string | null {
  try {
    return execFileSync('git', [...args], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    // Not a git checkout, or git is not installed: the commit is recorded as unknown.
    return null;
  }
}

/** Everything needed to repeat a run and to judge its figures: seed, config, machine, versions, git commit. */
export function runMetadata(seed: number, config: unknown, command: string | null = null, startedAt: Date = new Date()): RunMetadata {
  const pkg = readJson(join(REPO_ROOT, 'package.json'));
  const declared = { ...(pkg?.['dependencies'] as Record<string, string> | undefined), ...(pkg?.['devDependencies'] as Record<string, string> | undefined) };
  const packages: Record<string, string | null> = {};
  for (const name of Object.keys(declared).sort()) {
    const installed = readJson(join(REPO_ROOT, 'node_modules', name, 'package.json'));
    packages[name] = typeof installed?.['version'] === 'string' ? installed['version'] : null;
  }
  const status = git(['status', '--porcelain']);
  const cpuList = cpus();
  return {
    startedAt: startedAt.toISOString(),
    seed,
    config,
    command,
    machine: {
      platform: platform(),
      osRelease: release(),
      arch: arch(),
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      cores: cpuList.length,
      availableParallelism: availableParallelism(),
      memoryBytes: totalmem(),
      loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    },
    versions: {
      node: process.version,
      v8: process.versions.v8,
      medchain: typeof pkg?.['version'] === 'string' ? pkg['version'] : null,
      packages,
    },
    git: { commit: git(['rev-parse', 'HEAD']), dirty: status === null ? null : status.length > 0 },
  };
}

export type CsvCell = string | number | boolean | null | undefined;

/** RFC 4180 CSV: cells with a comma, quote or line break are quoted; numbers as JavaScript prints them. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const cell = (v: CsvCell): string => {
    if (v === null || v === undefined) return '';
    const text = typeof v === 'number' && !Number.isFinite(v) ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

export interface RunOutputs {
  /** Written as report.json. */
  readonly json: unknown;
  /** File name (without .csv) -> table. */
  readonly csv?: Readonly<Record<string, { readonly header: readonly string[]; readonly rows: readonly (readonly CsvCell[])[] }>>;
  /** File name (without .svg) -> SVG text. */
  readonly svg?: Readonly<Record<string, string>>;
}

/** A directory name for a run: `<prefix>-<UTC time>` (sorts by time; no characters a shell or Windows minds). */
export function runDirName(prefix: string, startedAt: Date): string {
  return `${prefix}-${startedAt.toISOString().replace(/[:.]/g, '-')}`;
}

/** JSON with NaN and ±Infinity written as null (JSON has neither), two-space indent. */
export function stringifyReport(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** Writes report.json, the CSVs and the SVGs into `dir` (created); returns the paths written. */
export async function writeRunOutputs(dir: string, outputs: RunOutputs): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const put = async (name: string, text: string): Promise<void> => {
    const path = join(dir, name);
    await writeFile(path, text);
    written.push(path);
  };
  await put('report.json', stringifyReport(outputs.json));
  for (const [name, table] of Object.entries(outputs.csv ?? {})) await put(`${name}.csv`, toCsv(table.header, table.rows));
  for (const [name, svg] of Object.entries(outputs.svg ?? {})) await put(`${name}.svg`, svg);
  return written;
}
