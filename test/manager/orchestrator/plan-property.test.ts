import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../../src/manager/orchestrator/index.js';
import { isRunnable } from '../../../src/manager/orchestrator/task-model.js';
import { makeNode, makeService, makeSpec } from './fixtures.js';
import { PlanWorld } from './plan-world.js';

type Event =
  | { kind: 'scale'; replicas: number }
  | { kind: 'node'; index: number; state: 'READY' | 'DOWN'; availability: 'ACTIVE' | 'PAUSE' | 'DRAIN' }
  | { kind: 'fail'; index: number; state: 'FAILED' | 'COMPLETE' }
  | { kind: 'run' }
  | { kind: 'stop' }
  | { kind: 'time'; ms: number }
  | { kind: 'image'; image: string };

const eventArb: fc.Arbitrary<Event> = fc.oneof(
  fc.record({ kind: fc.constant('scale' as const), replicas: fc.integer({ min: 0, max: 8 }) }),
  fc.record({ kind: fc.constant('node' as const), index: fc.integer({ min: 0, max: 3 }), state: fc.constantFrom('READY' as const, 'DOWN' as const), availability: fc.constantFrom('ACTIVE' as const, 'PAUSE' as const, 'DRAIN' as const) }),
  fc.record({ kind: fc.constant('fail' as const), index: fc.nat(), state: fc.constantFrom('FAILED' as const, 'COMPLETE' as const) }),
  fc.constant({ kind: 'run' as const }),
  fc.constant({ kind: 'stop' as const }),
  fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 0, max: 20_000 }) }),
  fc.record({ kind: fc.constant('image' as const), image: fc.constantFrom('a', 'b', 'c') }),
);

describe('planOrchestration properties', () => {
  it('settles after any sequence of events, with one task meant to run per slot 1..replicas at most', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 30 }), fc.constantFrom('STOP_FIRST' as const, 'START_FIRST' as const), (events, order) => {
      const w = new PlanWorld();
      w.nodes = ['n0', 'n1', 'n2', 'n3'].map((id) => makeNode(id));
      w.services = [makeService('svc', makeSpec('web', { replicas: 3, update: { parallelism: 2, delayMs: 0, failureAction: 'PAUSE', monitorMs: 1_000, maxFailureRatio: 0.5, order } }))];
      w.settle();
      for (const e of events) {
        const s = w.services[0]!;
        switch (e.kind) {
          case 'scale': w.services = [{ ...s, spec: { ...s.spec, replicated: { replicas: e.replicas } } }]; break;
          case 'image': w.services = [{ ...s, previousSpec: s.spec, updateStatus: undefined, spec: { ...s.spec, task: { ...s.spec.task, image: e.image } } }]; break;
          case 'node': w.nodes[e.index] = makeNode(`n${e.index}`, { state: e.state, availability: e.availability }); break;
          case 'fail': {
            const live = w.live().filter((t) => t.nodeId !== '');
            if (live.length > 0) w.setTask(live[e.index % live.length]!.id, { state: e.state });
            break;
          }
          case 'run': w.run(); break;
          case 'stop': w.stopShutdown(); break;
          case 'time': w.nowMs += e.ms; break;
        }
        w.settle();
        const replicas = w.services[0]!.spec.replicated!.replicas;
        const runnable = w.tasks.filter(isRunnable);
        const perSlot = new Map<number, number>();
        for (const t of runnable) perSlot.set(t.slot, (perSlot.get(t.slot) ?? 0) + 1);
        for (const [slot, n] of perSlot) {
          expect(slot).toBeGreaterThanOrEqual(1);
          expect(slot).toBeLessThanOrEqual(replicas);
          expect(n).toBeLessThanOrEqual(order === 'START_FIRST' ? 2 : 1);
        }
        // No slot is forgotten: each has a task meant to run or one waiting for its successor.
        for (let slot = 1; slot <= replicas; slot++) {
          const kept = w.tasks.some((t) => t.slot === slot && t.desiredState !== 'REMOVE' && (isRunnable(t) || t.annotations?.labels[LABELS.replaceAfter] !== undefined));
          expect(kept, `slot ${slot}`).toBe(true);
        }
        // Nothing meant to run stays on a DOWN or drained node.
        const bad = new Set(w.nodes.filter((n) => n.status?.state === 'DOWN' || n.spec.availability === 'DRAIN').map((n) => n.id));
        expect(runnable.filter((t) => bad.has(t.nodeId))).toEqual([]);
      }
    }), { numRuns: 300 });
  });

  it('a global service keeps one task per eligible node, whatever happens to the nodes', () => {
    fc.assert(fc.property(fc.array(eventArb, { maxLength: 30 }), (events) => {
      const w = new PlanWorld();
      w.nodes = ['n0', 'n1', 'n2', 'n3'].map((id) => makeNode(id));
      w.services = [makeService('g', makeSpec('agent', { global: true, update: { parallelism: 1, delayMs: 0, failureAction: 'CONTINUE', monitorMs: 0, maxFailureRatio: 0, order: 'STOP_FIRST' } }))];
      w.settle();
      for (const e of events) {
        const s = w.services[0]!;
        if (e.kind === 'node') w.nodes[e.index] = makeNode(`n${e.index}`, { state: e.state, availability: e.availability });
        else if (e.kind === 'image') w.services = [{ ...s, previousSpec: s.spec, updateStatus: undefined, spec: { ...s.spec, task: { ...s.spec.task, image: e.image } } }];
        else if (e.kind === 'fail') {
          const live = w.live();
          if (live.length > 0) w.setTask(live[e.index % live.length]!.id, { state: e.state });
        } else if (e.kind === 'run') w.run();
        else if (e.kind === 'stop') w.stopShutdown();
        else if (e.kind === 'time') w.nowMs += e.ms;
        w.settle();
        for (const node of w.nodes) {
          const mine = w.tasks.filter((t) => t.nodeId === node.id && t.desiredState !== 'REMOVE');
          const runnable = mine.filter(isRunnable);
          expect(runnable.length).toBeLessThanOrEqual(1);
          const eligible = node.status?.state === 'READY' && node.spec.availability !== 'DRAIN';
          if (!eligible) expect(runnable).toEqual([]);
          if (eligible && node.spec.availability === 'ACTIVE') {
            expect(runnable.length + mine.filter((t) => t.annotations?.labels[LABELS.replaceAfter] !== undefined).length).toBeGreaterThan(0);
          }
        }
      }
    }), { numRuns: 200 });
  });
});
