import type {
  ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation, handleServerStreamingCall, handleUnaryCall, sendUnaryData,
} from '@grpc/grpc-js';
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { toGrpcStatus } from '../controlapi/grpc-errors.js';
import type { Dispatcher, StreamSink } from './dispatcher.js';
import {
  withoutNulls, type AssignmentsRequest, type HeartbeatRequest, type SessionRequest, type UpdateTaskStatusRequest,
} from './messages.js';

export interface DispatcherServiceOptions {
  /** The running dispatcher while this manager leads; undefined otherwise. */
  readonly current: () => Dispatcher | undefined;
  /** The refusal of a manager that does not dispatch: DISPATCHER_NOT_LEADER naming the leader. */
  readonly notLeader: () => TsswarmError;
  /**
   * The caller's node ID from its verified certificate (a CallAuthorizer admitting
   * swarm-worker and swarm-manager). Every call acts for that node only.
   */
  readonly callerNodeId: (call: unknown) => string;
  readonly logger: Logger;
}

/** "ipv4:10.0.0.2:5000" / "[::1]:5000" / "10.0.0.2:5000" -> the host. */
export function peerHost(peer: string): string {
  return peer.replace(/^(ipv4|ipv6):/, '').replace(/^\[?(.*?)\]?:\d+$/, '$1');
}

/**
 * The gRPC edge of the dispatcher on 2377: the caller's identity from its certificate, the
 * request normalized (withoutNulls), a follower's refusal (DISPATCHER_NOT_LEADER), and every
 * TsswarmError mapped to its status with the code in the trailer. No decisions here.
 */
export function dispatcherServiceImplementation(opts: DispatcherServiceOptions): UntypedServiceImplementation {
  const log = opts.logger;
  const dispatcher = (): Dispatcher => {
    const d = opts.current();
    if (d === undefined || !d.isRunning) throw opts.notLeader();
    return d;
  };
  const report = (method: string, err: unknown): void => {
    if (isTsswarmError(err) && err.code !== 'INTERNAL') log.debug({ method, code: err.code }, 'dispatcher call refused');
    else log.error({ method, err: errorMessage(err) }, 'dispatcher call failed');
  };

  const unary = <Req, Res>(method: string, fn: (nodeId: string, req: Req) => Res | Promise<Res>): handleUnaryCall<unknown, unknown> =>
    (call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => {
      Promise.resolve()
        .then(() => fn(opts.callerNodeId(call), withoutNulls(call.request) as Req))
        .then(
          (res) => done(null, res),
          (err: unknown) => {
            report(method, err);
            done(toGrpcStatus(err));
          },
        );
    };

  const serverStream = <Req, M>(
    method: string,
    open: (nodeId: string, req: Req, call: ServerWritableStream<unknown, unknown>, sink: StreamSink<M>) => Promise<() => void> | (() => void),
  ): handleServerStreamingCall<unknown, unknown> =>
    (call: ServerWritableStream<unknown, unknown>) => {
      let over = false;
      let cancel: (() => void) | undefined;
      const finish = (err: unknown): void => {
        if (over) return;
        over = true;
        cancel?.();
        report(method, err);
        call.emit('error', toGrpcStatus(err));
      };
      call.on('cancelled', () => {
        over = true;
        cancel?.();
      });
      const sink: StreamSink<M> = {
        send: (message) => {
          if (!over) call.write(message);
        },
        end: finish,
      };
      Promise.resolve()
        .then(() => open(opts.callerNodeId(call), withoutNulls(call.request) as Req, call, sink))
        .then((stop) => {
          if (over) stop();
          else cancel = stop;
        }, finish);
    };

  return {
    Session: serverStream<SessionRequest, unknown>('Session', (nodeId, req, call, sink) =>
      dispatcher().openSession(nodeId, req, peerHost(call.getPeer()), sink as StreamSink<never>)),
    Heartbeat: unary<HeartbeatRequest, unknown>('Heartbeat', (nodeId, req) => dispatcher().heartbeat(nodeId, req.sessionId)),
    Assignments: serverStream<AssignmentsRequest, unknown>('Assignments', (nodeId, req, _call, sink) =>
      dispatcher().assignments(nodeId, req.sessionId, sink as StreamSink<never>)),
    UpdateTaskStatus: unary<UpdateTaskStatusRequest, unknown>('UpdateTaskStatus', (nodeId, req) => dispatcher().updateTaskStatus(nodeId, req)),
  };
}

