import type {
  ServerReadableStream, ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation, handleClientStreamingCall,
  handleServerStreamingCall, handleUnaryCall, sendUnaryData,
} from '@grpc/grpc-js';
import { TsswarmError, errorMessage, isTsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { toGrpcStatus } from '../controlapi/grpc-errors.js';
import type { Dispatcher, StreamSink } from './dispatcher.js';
import {
  withoutNulls, type AssignmentsRequest, type HeartbeatRequest, type PublishLogsMessage, type SessionRequest,
  type UpdateTaskStatusRequest,
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

  /**
   * PublishLogs: one message at a time, in order; the stream is paused while the broker has
   * no room (backpressure to the agent). A refusal ends the call with its error at once; the
   * stream ending or breaking before `close` ends the node's part with an error.
   */
  const publishLogs: handleClientStreamingCall<unknown, unknown> = (call: ServerReadableStream<unknown, unknown>, done: sendUnaryData<unknown>) => {
    let over = false;
    let closed = false;
    let subscriptionId = '';
    let nodeId: string;
    const refuse = (err: unknown): void => {
      if (over) return;
      over = true;
      report('PublishLogs', err);
      if (subscriptionId !== '' && !closed) opts.current()?.publishLogsBroken(nodeId, subscriptionId, 'the manager refused a message');
      done(toGrpcStatus(err));
    };
    try {
      nodeId = opts.callerNodeId(call);
    } catch (err) {
      refuse(err);
      return;
    }
    let chain = Promise.resolve();
    call.on('data', (raw: unknown) => {
      const message = withoutNulls(raw) as PublishLogsMessage;
      call.pause();
      chain = chain
        .then(async () => {
          if (over) return;
          if (subscriptionId === '') subscriptionId = message.subscriptionId;
          else if (message.subscriptionId !== subscriptionId) {
            throw new TsswarmError('DISPATCHER_INVALID_REQUEST', { nodeId, reason: 'a PublishLogs stream carries one subscription only' });
          }
          await dispatcher().publishLogs(nodeId, message);
          if (message.close) closed = true;
        })
        .then(() => {
          if (!over) call.resume();
        }, refuse);
    });
    call.on('end', () => {
      void chain.then(() => {
        if (over) return;
        over = true;
        if (subscriptionId !== '' && !closed) opts.current()?.publishLogsBroken(nodeId, subscriptionId, 'the node ended the stream without closing');
        done(null, {});
      });
    });
    const broken = (): void => {
      if (over) return;
      over = true;
      if (subscriptionId !== '' && !closed) opts.current()?.publishLogsBroken(nodeId, subscriptionId, 'the node\'s stream broke or was cancelled');
    };
    call.on('cancelled', broken);
    call.on('error', broken);
  };

  return {
    PublishLogs: publishLogs,
    Session: serverStream<SessionRequest, unknown>('Session', (nodeId, req, call, sink) =>
      dispatcher().openSession(nodeId, req, peerHost(call.getPeer()), sink as StreamSink<never>)),
    Heartbeat: unary<HeartbeatRequest, unknown>('Heartbeat', (nodeId, req) => dispatcher().heartbeat(nodeId, req.sessionId)),
    Assignments: serverStream<AssignmentsRequest, unknown>('Assignments', (nodeId, req, _call, sink) =>
      dispatcher().assignments(nodeId, req.sessionId, sink as StreamSink<never>)),
    UpdateTaskStatus: unary<UpdateTaskStatusRequest, unknown>('UpdateTaskStatus', (nodeId, req) => dispatcher().updateTaskStatus(nodeId, req)),
  };
}

