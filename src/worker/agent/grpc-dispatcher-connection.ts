import type { ChannelCredentials, ClientReadableStream, ClientWritableStream, ServiceError } from '@grpc/grpc-js';
import { TsswarmError } from '../../errors/index.js';
import { fromServiceError } from '../../manager/controlapi/grpc-errors.js';
import { loadDispatcherProto } from '../../manager/dispatcher/dispatcher-proto.js';
import type { DispatcherConnection, DispatcherConnector, LogPublishStream, StreamHandle, StreamHandlers } from './dispatcher-connection.js';

export interface GrpcConnectorOptions {
  /** mTLS with the node's certificate, accepting only managers of this cluster as servers. */
  readonly credentials: ChannelCredentials;
  readonly channelOptions: Record<string, string | number>;
}

type Unary = (req: unknown, opts: { deadline: Date }, cb: (err: ServiceError | null, res: unknown) => void) => void;
type ServerStream = (req: unknown) => ClientReadableStream<unknown>;
type ClientStream = (cb: (err: ServiceError | null, res: unknown) => void) => ClientWritableStream<unknown>;

/** The gRPC edge of the agent: DispatcherConnections over grpc-js with mutual TLS. */
export function grpcDispatcherConnector(options: GrpcConnectorOptions): DispatcherConnector {
  const { DispatcherClient } = loadDispatcherProto();
  return (addr) => {
    const client = new DispatcherClient(addr, options.credentials, options.channelOptions);
    const methods = client as unknown as Record<string, Unary | ServerStream>;
    const toError = (err: ServiceError): TsswarmError =>
      fromServiceError(err) ?? new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr, reason: err.details || err.message });
    const unary = <Res>(method: string, req: unknown, timeoutMs: number): Promise<Res> =>
      new Promise<Res>((resolve, reject) => {
        (methods[method] as Unary).call(client, req, { deadline: new Date(Date.now() + timeoutMs) }, (err: ServiceError | null, res: unknown) => {
          if (err === null) resolve(res as Res);
          else reject(toError(err));
        });
      });
    const stream = <M>(method: string, req: unknown, handlers: StreamHandlers<M>): StreamHandle => {
      const call = (methods[method] as ServerStream).call(client, req);
      let over = false;
      const fail = (err: TsswarmError): void => {
        if (over) return;
        over = true;
        handlers.onError(err);
      };
      call.on('data', (message: unknown) => {
        if (!over) handlers.onMessage(message as M);
      });
      call.on('error', (err: ServiceError) => fail(toError(err)));
      call.on('end', () => fail(new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr, reason: `the ${method} stream ended` })));
      return {
        cancel: () => {
          over = true;
          call.cancel();
        },
      };
    };
    const clientStream = (method: string): LogPublishStream => {
      let outcome: { err: TsswarmError | undefined } | undefined;
      const settled: Array<() => void> = [];
      const call = (methods[method] as unknown as ClientStream).call(client, (err: ServiceError | null) => {
        outcome = { err: err === null ? undefined : toError(err) };
        for (const wake of settled.splice(0)) wake();
      });
      // The callback reports a failure; an 'error' event without a listener would throw.
      call.on('error', () => undefined);
      const failure = (): TsswarmError =>
        outcome?.err ?? new TsswarmError('TRANSPORT_UNREACHABLE', { nodeId: '(manager)', addr, reason: `the ${method} stream is over` });
      return {
        write: (message) => new Promise<void>((resolve, reject) => {
          if (outcome !== undefined) {
            reject(failure());
            return;
          }
          if (call.write(message)) {
            resolve();
            return;
          }
          const onDrain = (): void => resolve();
          call.once('drain', onDrain);
          settled.push(() => {
            call.off('drain', onDrain);
            reject(failure());
          });
        }),
        finish: () => new Promise<void>((resolve, reject) => {
          const settle = (): void => {
            if (outcome?.err === undefined) resolve();
            else reject(outcome.err);
          };
          if (outcome !== undefined) {
            settle();
            return;
          }
          settled.push(settle);
          call.end();
        }),
        cancel: () => call.cancel(),
      };
    };
    const connection: DispatcherConnection = {
      addr,
      session: (req, handlers) => stream('Session', req, handlers),
      heartbeat: (req, timeoutMs) => unary('Heartbeat', req, timeoutMs),
      assignments: (req, handlers) => stream('Assignments', req, handlers),
      updateTaskStatus: (req, timeoutMs) => unary('UpdateTaskStatus', req, timeoutMs),
      publishLogs: () => clientStream('PublishLogs'),
      close: () => client.close(),
    };
    return connection;
  };
}
