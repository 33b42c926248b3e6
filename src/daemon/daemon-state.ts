import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { TsswarmError, errorMessage } from '../errors/index.js';
import { writeFileAtomic } from './atomic-file.js';

/**
 * What a daemon must remember across restarts besides its certificates and Raft log: its
 * identity and, once it is in a swarm, which one and how it reaches it. Written atomically;
 * the write of `swarm` is the commit point of init (and later join/leave).
 */
const swarmStateSchema = z.object({
  clusterId: z.string().min(1),
  role: z.enum(['manager', 'worker']),
  // host:port this node's Raft/gRPC server binds (managers).
  listenAddr: z.string().min(1),
  // host:port other nodes dial to reach this node's 2377.
  advertiseAddr: z.string().min(1),
  // address for VXLAN traffic (the advertise host unless --data-path-addr).
  dataPathAddr: z.string().min(1),
  // host:port of managers this node last knew (a worker renews its certificate through them;
  // the one it joined through first). Absent in state written before it existed.
  managers: z.array(z.string().min(1)).optional(),
});

const daemonStateSchema = z.object({
  version: z.literal(1),
  nodeId: z.string().regex(/^[0-9a-z]{25}$/),
  swarm: swarmStateSchema.optional(),
});

export type SwarmState = z.infer<typeof swarmStateSchema>;
export type DaemonState = z.infer<typeof daemonStateSchema>;

/** The stored state, or undefined on a fresh data root. Throws DAEMON_STATE_INVALID if unreadable. */
export async function readDaemonState(path: string): Promise<DaemonState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TsswarmError('DAEMON_STATE_INVALID', { path, reason: errorMessage(err) }, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TsswarmError('DAEMON_STATE_INVALID', { path, reason: `it is not JSON (${errorMessage(err)})` }, { cause: err });
  }
  const parsed = daemonStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new TsswarmError('DAEMON_STATE_INVALID', { path, reason: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  return parsed.data;
}

export async function writeDaemonState(path: string, state: DaemonState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`);
}
