import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TsswarmError } from '../../../src/errors/index.js';
import { silentLogger } from '../../../src/log/logger.js';
import type { TaskStatus } from '../../../src/objects/index.js';
import { createTaskExecutor, type NodeTaskExecutor } from '../../../src/worker/executor/executor.js';
import { ProcessRuntime } from '../../../src/worker/runtime/process-runtime.js';
import type { EnsureOptions, SandboxDetails, SandboxProvider } from '../../../src/worker/sandbox/sandbox-provider.js';
import { until } from '../../support/wait.js';
import { task } from '../common/fixtures.js';
import { killProcsMentioning, makeNetns, removeNetns } from '../common/helpers.js';
import { NET1, NET2, attach } from '../sandbox/attachment-fixtures.js';

/**
 * The executor hands each task's network attachments (and who its endpoints belong to) to its
 * sandbox, and to restore() after a restart; a sandbox that refuses an attachment rejects the
 * task. Real processes (process runtime) in a throwaway namespace; a recording provider.
 */
const PREFIX = 'tsw-exatt';
const NS = `${PREFIX}-ns`;

class AttachmentRecorder implements SandboxProvider {
  readonly ensured = new Map<string, EnsureOptions>();
  readonly restored = new Map<string, SandboxDetails | undefined>();
  readonly held = new Set<string>();
  refuse: string | undefined;

  constructor(private readonly netnsPath: string) {}

  restore(taskIds: Iterable<string>, details?: ReadonlyMap<string, SandboxDetails>): void {
    for (const id of taskIds) {
      this.restored.set(id, details?.get(id));
      this.held.add(id);
    }
  }

  async ensure(taskId: string, opts: EnsureOptions = {}): Promise<string> {
    if (taskId === this.refuse) throw new TsswarmError('TASK_NETWORK_ATTACHMENT_INVALID', { taskId, networkId: 'net1', reason: 'test' });
    this.ensured.set(taskId, opts);
    this.held.add(taskId);
    return this.netnsPath;
  }

  async release(taskId: string): Promise<void> {
    this.held.delete(taskId);
  }
}

describe.sequential('executor -> sandbox attachments', () => {
  let netnsPath: string;
  let dataDir: string;
  const runtime = new ProcessRuntime({ pollIntervalMs: 20 });
  const open: NodeTaskExecutor[] = [];
  const seen: Array<[string, TaskStatus]> = [];

  const make = (sandboxes: SandboxProvider) => {
    const ex = createTaskExecutor({ nodeId: 'node1', nodeHostname: 'host-a', dataDir, sandboxes, runtimes: { PROCESS: runtime }, logger: silentLogger(), config: { defaultStopGracePeriodMs: 200 } });
    ex.onStatus((id, s) => seen.push([id, s]));
    open.push(ex);
    return ex;
  };

  beforeAll(async () => {
    netnsPath = await makeNetns(NS);
    dataDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
  });
  afterEach(async () => {
    // Unassign everything with a fresh executor, so every process is stopped.
    for (const ex of open.splice(0)) await ex.close();
    const cleaner = make(new AttachmentRecorder(netnsPath));
    await cleaner.ready();
    cleaner.setAssignments([]);
    await until(() => cleaner.currentStatuses().size === 0, 'cleanup');
    await cleaner.close();
    open.length = 0;
  });
  afterAll(async () => {
    try {
      await killProcsMentioning(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    } finally {
      await removeNetns(NS);
    }
  });

  it('passes the task\'s attachments in order and its owner to ensure, and both to restore after a restart', async () => {
    const sb = new AttachmentRecorder(netnsPath);
    const ex = make(sb);
    const networks = [attach(NET2, '10.0.2.5/24'), attach(NET1, '10.0.1.5/24')];
    ex.setAssignments([task('tN1', {}, { networks })]);
    await until(() => ex.currentStatuses().get('tN1')?.state === 'RUNNING', 'tN1 running');
    expect(sb.ensured.get('tN1')).toEqual({ attachments: networks, owner: { taskName: 'web.1.tN1', serviceId: 'svc1', serviceName: 'web' } });

    await ex.close();
    const sb2 = new AttachmentRecorder(netnsPath);
    const again = make(sb2);
    await again.ready();
    expect(sb2.restored.get('tN1')).toEqual({ attachments: networks, owner: { taskName: 'web.1.tN1', serviceId: 'svc1', serviceName: 'web' } });
  });

  it('rejects a task whose sandbox refuses its attachment', async () => {
    const sb = new AttachmentRecorder(netnsPath);
    sb.refuse = 'tN2';
    const ex = make(sb);
    ex.setAssignments([task('tN2', {}, { networks: [attach(NET1, '10.0.1.1/24')] })]);
    await until(() => ex.currentStatuses().get('tN2')?.state === 'REJECTED', 'tN2 rejected');
    expect(seen.filter(([id]) => id === 'tN2').map(([, s]) => s.state)).not.toContain('RUNNING');
  });
});
