/**
 * Permission-script engine throughput, single thread.
 * Run: ./node_modules/.bin/node bench/script.bench.ts
 *
 * Each line is one evaluatePolicy(program, context, CURRENT_POLICY_FLAGS) call,
 * bytecode check included (the node evaluates stored bytecode as it is, with
 * no cache). Contexts are in-memory (contextFromJson), so context lookups cost
 * what a Map read costs; on a node they read chain state. Warm-up, then about
 * one second per line; the figure is the best of three rounds.
 * Target: the default policy under 2 us per evaluation (an Ed25519 check is ~52 us).
 */
import { performance } from 'node:perf_hooks';
import {
  checkProgram,
  compilePolicy,
  contextFromJson,
  CURRENT_POLICY_FLAGS,
  DEFAULT_POLICY,
  DEFAULT_POLICY_SOURCE,
  evaluatePolicy,
  MAX_PROGRAM_BYTES,
  type PolicyContext,
  type PolicyDecision,
} from '../src/script/index.ts';

const PATIENT = 'aa'.repeat(32);
const DOCTOR = 'bb'.repeat(32);
const NOW = 1_700_000_000_000;

const world = {
  owner: PATIENT,
  action: 'read',
  height: 1000,
  time: NOW,
  roles: { [PATIENT]: 'patient', [DOCTOR]: 'doctor' },
  grants: { [DOCTOR]: { scope: ['read', 'write'], expiresAt: NOW + 86_400_000 } },
  // The default policy lets a granted doctor in only while a hospital's attestation holds.
  attestations: { [DOCTOR]: [{ hospital: 'cc'.repeat(32), expiresAt: NOW + 365 * 86_400_000 }] },
};
const ownerReads = contextFromJson({ ...world, requester: PATIENT });
const doctorReads = contextFromJson({ ...world, requester: DOCTOR });

function compile(source: string): Uint8Array {
  const result = compilePolicy(source, CURRENT_POLICY_FLAGS);
  if (!result.ok) throw new Error(`bench program does not compile: ${result.error.message}`);
  return result.program;
}

/** `rules` plus a padding rule whose string literal is sized so the program is exactly MAX_PROGRAM_BYTES. */
function exactlyMaxSize(rules: string): Uint8Array {
  for (let n = 0; n <= 256; n++) {
    const program = compile(`${rules}\ndeny read if requester == owner and purpose == "${'x'.repeat(n)}"`);
    if (program.length === MAX_PROGRAM_BYTES) return program;
  }
  throw new Error('could not pad the bench program to the size limit');
}

// Largest program, fully evaluated: 122 identity literals in two lists; the requester is the very last one.
const ids = Array.from({ length: 122 }, (_, i) => (i === 121 ? DOCTOR : (i + 1).toString(16).padStart(2, '0').repeat(32)));
const listProgram = exactlyMaxSize(
  `allow read if requester in [${ids.slice(0, 64).map((id) => `0x${id}`).join(', ')}]\n` +
    `allow read if requester in [${ids.slice(64, 121).map((id) => `0x${id}`).join(', ')}, 0x${DOCTOR}]`,
);

// Largest program, costliest evaluation: context lookups until the step budget runs out.
const lookupRule = `allow read if revoked(requester)${' or revoked(requester)'.repeat(62)}`;
const budgetProgram = exactlyMaxSize(Array.from({ length: 16 }, () => lookupRule).join('\n'));

interface Line {
  name: string;
  program: Uint8Array;
  context: PolicyContext;
}

const lines: Line[] = [
  { name: 'default policy, owner reads', program: DEFAULT_POLICY, context: ownerReads },
  { name: 'default policy, granted doctor reads', program: DEFAULT_POLICY, context: doctorReads },
  { name: 'largest program (4096 B), 122-id lists, allow', program: listProgram, context: doctorReads },
  { name: 'largest program (4096 B), lookups to the step budget', program: budgetProgram, context: doctorReads },
];

function describe(d: PolicyDecision): string {
  if (d.decision === 'allow') return `allow, ${d.steps} steps`;
  if (d.decision === 'deny') return `deny, ${d.steps} steps`;
  return `error ${d.code}`;
}

/** Evaluations per second: best of three ~1 s rounds after a warm-up. */
function measure(line: Line): number {
  const batch = 2_000;
  const run = (): void => {
    for (let i = 0; i < batch; i++) evaluatePolicy(line.program, line.context, CURRENT_POLICY_FLAGS);
  };
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) run();
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let count = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < 1000) {
      run();
      count += batch;
      elapsed = performance.now() - start;
    }
    best = Math.max(best, (count * 1000) / elapsed);
  }
  return best;
}

function timeOne(name: string, fn: () => unknown): void {
  const n = 200_000;
  for (let i = 0; i < n; i++) fn();
  const start = performance.now();
  for (let i = 0; i < n; i++) fn();
  const ns = ((performance.now() - start) * 1e6) / n;
  console.log(`${name.padEnd(56)} ${ns.toFixed(0).padStart(9)} ns`);
}

console.log(`node ${process.version}; checkProgram + evaluation per call; flags = current`);
console.log(`${'case'.padEnd(56)} ${'bytes'.padStart(5)} ${'evals/s'.padStart(12)} ${'ns/eval'.padStart(9)}  result`);
for (const line of lines) {
  const result = describe(evaluatePolicy(line.program, line.context, CURRENT_POLICY_FLAGS));
  const perSecond = measure(line);
  console.log(
    `${line.name.padEnd(56)} ${String(line.program.length).padStart(5)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} ${(1e9 / perSecond).toFixed(0).padStart(9)}  ${result}`,
  );
}
console.log('');
console.log('parts:');
timeOne('checkProgram(default policy)', () => checkProgram(DEFAULT_POLICY, CURRENT_POLICY_FLAGS));
timeOne('checkProgram(largest program, id lists)', () => checkProgram(listProgram, CURRENT_POLICY_FLAGS));
timeOne('compilePolicy(default policy source)', () => compilePolicy(DEFAULT_POLICY_SOURCE));
