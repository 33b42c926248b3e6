import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The record of a created test bed, a small JSON file ROOT/NAME/state.json, so that `cluster
 * down` and `cluster ls` work from another process.
 */

export interface TestbedHost {
  readonly name: string;
  /** The host's network namespace (an nsfs file). */
  readonly nsPath: string;
  /** Its underlay address (eth0). */
  readonly address: string;
  /** A run directory for the host's daemon (its own netns dir lives under it). */
  readonly runDir: string;
}

/** A `tsswarm daemon` that `cluster up` started in a host's namespace. */
export interface DaemonRecord {
  /** The host's name (h1, h2, ...). */
  readonly host: string;
  readonly role: 'manager' | 'worker';
  readonly pid: number;
  /** Field 22 of /proc/PID/stat: with the PID, names this process for good (PIDs are reused). */
  readonly startTime: number;
  /** The daemon's local API socket (a path; `-H unix://PATH`). */
  readonly socket: string;
  readonly dataRoot: string;
  /** Its stdout and stderr (JSON log lines). */
  readonly log: string;
}

export interface TestbedState {
  readonly name: string;
  readonly root: string;
  readonly subnet: string;
  readonly mtu: number;
  readonly underlayNsPath: string;
  /** The underlay namespace's address on the bridge: the hosts' default gateway. */
  readonly gateway: string;
  /** An address of the underlay namespace that stands for the outside world. */
  readonly outsideAddr: string;
  readonly hosts: readonly TestbedHost[];
  readonly createdAt: string;
  /** The daemons `cluster up` started, written as each one starts (absent: hosts only). */
  readonly daemons?: readonly DaemonRecord[];
}

const FILE = 'state.json';

export async function writeState(state: TestbedState): Promise<void> {
  const dir = join(state.root, state.name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, FILE), JSON.stringify(state, null, 2) + '\n');
}

export async function readState(root: string, name: string): Promise<TestbedState | undefined> {
  try {
    return JSON.parse(await readFile(join(root, name, FILE), 'utf8')) as TestbedState;
  } catch {
    return undefined;
  }
}

export async function removeState(root: string, name: string): Promise<void> {
  await rm(join(root, name, FILE), { force: true });
}

export async function listStates(root: string): Promise<TestbedState[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const states = await Promise.all(names.sort().map((n) => readState(root, n)));
  return states.filter((s): s is TestbedState => s !== undefined);
}
