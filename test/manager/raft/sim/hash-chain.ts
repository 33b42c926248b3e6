import type { Entry } from '../../../../src/manager/raft/types.js';

/**
 * A prefix hash over a Raft log: chain(i) = mix(chain(i-1), entry i). Two logs with the same
 * chain value at index i hold identical entries 1..i, so the simulator can check Log Matching
 * and State Machine Safety for a whole prefix with one comparison, and a snapshot can carry
 * the chain value of the prefix it stands for.
 *
 * Two independent 32-bit FNV-1a style lanes folded into one 53-bit number: collisions are
 * negligible for the few thousand entries of a simulated run.
 */
export type Chain = number;

/** The chain value of the empty log (index 0). */
export const EMPTY_CHAIN: Chain = 0;

export function chainNext(prev: Chain, entry: Entry): Chain {
  let a = (prev % 0x100000000) ^ 0x811c9dc5;
  let b = Math.floor(prev / 0x100000000) ^ 0x01000193;
  const mix = (v: number): void => {
    a = Math.imul(a ^ v, 0x01000193);
    b = Math.imul(b ^ v, 0x5bd1e995);
    b ^= b >>> 15;
  };
  mix(entry.index);
  mix(entry.term);
  mix(entry.type);
  mix(entry.data.byteLength);
  for (let i = 0; i < entry.data.length; i++) mix(entry.data[i]!);
  return (a >>> 0) + (b >>> 11) * 0x100000000;
}

/**
 * What the simulated state machine serializes into a snapshot: the index it had applied and
 * the chain value of the entries it applied. That is all the invariants need to compare.
 */
export interface StateMachineImage {
  readonly index: number;
  readonly chain: Chain;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeImage(image: StateMachineImage): Uint8Array {
  return encoder.encode(`${image.index}:${image.chain}`);
}

export function decodeImage(data: Uint8Array): StateMachineImage {
  const text = decoder.decode(data);
  const match = /^(\d+):(\d+)$/.exec(text);
  if (match === null) throw new Error(`simulator: snapshot data is not a state machine image: ${JSON.stringify(text)}`);
  return { index: Number(match[1]), chain: Number(match[2]) };
}

export function textBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesText(data: Uint8Array): string {
  return decoder.decode(data);
}
