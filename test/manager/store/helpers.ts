import { LocalProposer, MemoryStore, type MemoryStoreOptions } from '../../../src/manager/store/index.js';

/** A store over a one-member log, with a fixed clock and predictable proposal IDs. */
export function localStore(options: MemoryStoreOptions = {}): { store: MemoryStore; log: LocalProposer } {
  let n = 0;
  const store = new MemoryStore({ wallClock: () => 1_700_000_000_000, newProposalId: () => `p${++n}`, ...options });
  const log = new LocalProposer(store);
  store.attach(log);
  return { store, log };
}

export const serviceInput = (id: string, name: string, replicas = 1) => ({
  id,
  spec: { annotations: { name }, task: { image: 'sleep', args: ['1000'] }, replicated: { replicas } },
});

export const taskInput = (id: string, serviceId: string, slot: number, nodeId = '') => ({
  id,
  serviceId,
  slot,
  nodeId,
  desiredState: 'RUNNING' as const,
  status: { state: 'NEW' as const },
});

/** Resolves to the code of a TsswarmError rejection (fails the test if it resolves). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  throw new Error('expected a rejection');
}
