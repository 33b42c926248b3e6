import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createLinuxDataplane, type Dataplane } from '../../src/dataplane/dataplane.js';
import { runCommand, type UnitResult } from '../../src/dataplane/kernel/script-runner.js';
import type { DesiredState, NetworkSpec, RemoteEndpoint, SandboxSpec } from '../../src/dataplane/model.js';
import { sandboxNs } from '../../src/dataplane/naming.js';
import type { TestbedHost, TestbedState } from '../../src/testbed/state.js';

/** Helpers for tests that drive real dataplanes on test bed hosts. */

export function dataplaneFor(host: TestbedHost): Dataplane {
  return createLinuxDataplane({ dataPathAddr: host.address, runDir: host.runDir, hostNsPath: host.nsPath });
}

export function sandboxPath(host: TestbedHost, id: string): string {
  return join(host.runDir, 'netns', sandboxNs(id));
}

/** Runs cmd in a namespace (nsfs file). */
export function inNs(nsPath: string, cmd: readonly string[], input?: string): Promise<UnitResult> {
  return runCommand(['nsenter', `--net=${nsPath}`, ...cmd], input);
}

/** The desired state of every host, as the control plane will hand it: remotes = the others' endpoints. */
export function desiredStates(
  tb: TestbedState,
  networks: readonly NetworkSpec[],
  placement: ReadonlyMap<string, readonly SandboxSpec[]>,
): Map<string, DesiredState> {
  const out = new Map<string, DesiredState>();
  for (const h of tb.hosts) {
    const remotes: RemoteEndpoint[] = [];
    for (const other of tb.hosts) {
      if (other.name === h.name) continue;
      for (const sb of placement.get(other.name) ?? []) {
        for (const ep of sb.endpoints) remotes.push({ network: ep.network, ip: ep.ip, mac: ep.mac, vtep: other.address });
      }
    }
    out.set(h.name, { networks, sandboxes: placement.get(h.name) ?? [], remotes });
  }
  return out;
}

/** A snapshot of what a namespace holds, to compare before and after. */
export async function nsSnapshot(nsPath: string): Promise<string> {
  const links = await inNs(nsPath, ['ip', '-br', 'link']);
  const addrs = await inNs(nsPath, ['ip', '-br', 'addr']);
  const routes = await inNs(nsPath, ['ip', 'route']);
  const nft = await inNs(nsPath, ['nft', 'list', 'ruleset']);
  // Counters and the operational state of the host's own eth0 may move; names and config may not.
  const brief = (s: string) =>
    s
      .split('\n')
      .map((l) => l.split(/\s+/).filter((_w, i) => i !== 1).join(' '))
      .join('\n');
  return [brief(links.stdout), brief(addrs.stdout), routes.stdout, nft.stdout].join('\n--\n');
}

/**
 * Starts a TCP listener (netcat) in a namespace and waits until it accepts, by polling with
 * a client probe (bounded, so never flaky on a slow machine, never hanging).
 */
export async function startListener(nsPath: string, addr: string, port: number): Promise<ChildProcess> {
  const child = track(spawn('nsenter', [`--net=${nsPath}`, 'nc', '-n', '-v', '-l', addr, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  for (let i = 0; i < 200; i++) {
    const ss = await runCommand(['nsenter', `--net=${nsPath}`, 'ss', '-Htln', `sport = :${port}`]);
    if (ss.stdout.trim() !== '') return child;
    await new Promise((r) => setTimeout(r, 25));
  }
  child.kill('SIGKILL');
  throw new Error(`listener on ${addr}:${port} never came up`);
}

export function collect(child: ChildProcess): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', () => resolve({ stdout, stderr })));
}

const started = new Set<ChildProcess>();

/** Remembers a process so that killStarted() ends it even when a test fails midway. */
export function track<T extends ChildProcess>(child: T): T {
  started.add(child);
  child.on('exit', () => started.delete(child));
  return child;
}

export function killStarted(): void {
  for (const c of started) c.kill('SIGKILL');
  started.clear();
}
