import { PosEngine } from './pos/posEngine.ts';
import { PowEngine } from './pow/powEngine.ts';
import type { ConsensusEngine } from './interface.ts';
import type { GenesisSpec } from '../types/genesis.ts';

export type { ConsensusEngine, ConsensusContext, ParentInfo } from './interface.ts';
export { PosEngine, PowEngine };

/** The engine the genesis file selects. */
export function createEngine(spec: GenesisSpec): ConsensusEngine {
  return spec.consensus.engine === 'pow' ? new PowEngine(spec.consensus) : new PosEngine(spec.consensus, spec.time);
}
