import type { ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation, sendUnaryData } from '@grpc/grpc-js';
import { errorMessage, isTsswarmError } from '../../errors/index.js';
import type { Logger } from '../../log/logger.js';
import { toGrpcStatus } from './grpc-errors.js';
import type { ControlBackend, ServiceLogLine, ServiceLogsRequest } from './messages.js';
import { withoutNulls } from '../../util/without-nulls.js';

type Handler = (call: ServerUnaryCall<unknown, unknown>, done: sendUnaryData<unknown>) => void;

/**
 * The gRPC handlers of the Control service over a backend. Each call runs the backend's
 * promise and maps a refusal to its status at this edge (grpc-errors.ts). Who may call is
 * decided outside: the local socket is guarded by its file mode, 2377 by the mTLS
 * authorization interceptor (managers only).
 */
export function controlServiceImplementation(backend: ControlBackend, logger: Logger): UntypedServiceImplementation {
  const unary = <Req, Res>(name: string, fn: (req: Req) => Promise<Res>): Handler => (call, done) => {
    // Through a promise, so a backend that throws synchronously is refused like one that rejects.
    Promise.resolve(call.request as Req).then(fn).then(
      (res) => done(null, res),
      (err: unknown) => {
        if (isTsswarmError(err) && err.code !== 'INTERNAL') logger.info({ method: name, code: err.code }, 'control call refused');
        else logger.error({ method: name, err: errorMessage(err) }, 'control call failed');
        done(toGrpcStatus(err));
      },
    );
  };
  return {
    InitCluster: unary('InitCluster', (req: Parameters<ControlBackend['initCluster']>[0]) => backend.initCluster(req)),
    GetInfo: unary('GetInfo', () => backend.getInfo()),
    ListNodes: unary('ListNodes', () => backend.listNodes()),
    GetNode: unary('GetNode', (req: Parameters<ControlBackend['getNode']>[0]) => backend.getNode(req)),
    GetJoinToken: unary('GetJoinToken', (req: Parameters<ControlBackend['getJoinToken']>[0]) => backend.getJoinToken(req)),
    JoinCluster: unary('JoinCluster', (req: Parameters<ControlBackend['joinCluster']>[0]) => backend.joinCluster(req)),
    UpdateNode: unary('UpdateNode', (req: Parameters<ControlBackend['updateNode']>[0]) => backend.updateNode(req)),
    ListNodeTasks: unary('ListNodeTasks', (req: Parameters<ControlBackend['listNodeTasks']>[0]) => backend.listNodeTasks(req)),
    RemoveNode: unary('RemoveNode', (req: Parameters<ControlBackend['removeNode']>[0]) => backend.removeNode(req)),
    SetNodeRole: unary('SetNodeRole', (req: Parameters<ControlBackend['setNodeRole']>[0]) => backend.setNodeRole(req)),
    LeaveCluster: unary('LeaveCluster', (req: Parameters<ControlBackend['leaveCluster']>[0]) => backend.leaveCluster(req)),
    UpdateCluster: unary('UpdateCluster', (req: Parameters<ControlBackend['updateCluster']>[0]) => backend.updateCluster(req)),
    GetRootCA: unary('GetRootCA', (req: Parameters<ControlBackend['getRootCa']>[0]) => backend.getRootCa(req)),
    // Specs arrive with null for every absent sub-message (proto-loader's defaults); the
    // service code reads absent as undefined, as the store hands objects out.
    CreateService: unary('CreateService', (req: Parameters<ControlBackend['createService']>[0]) => backend.createService(withoutNulls(req))),
    ListServices: unary('ListServices', () => backend.listServices()),
    GetService: unary('GetService', (req: Parameters<ControlBackend['getService']>[0]) => backend.getService(req)),
    UpdateService: unary('UpdateService', (req: Parameters<ControlBackend['updateService']>[0]) => backend.updateService(withoutNulls(req))),
    ScaleService: unary('ScaleService', (req: Parameters<ControlBackend['scaleService']>[0]) => backend.scaleService(req)),
    RollbackService: unary('RollbackService', (req: Parameters<ControlBackend['rollbackService']>[0]) => backend.rollbackService(req)),
    RemoveServices: unary('RemoveServices', (req: Parameters<ControlBackend['removeServices']>[0]) => backend.removeServices(req)),
    ListTasks: unary('ListTasks', (req: Parameters<ControlBackend['listTasks']>[0]) => backend.listTasks(req)),
    // A network spec's absent IPAM arrives as null, as a service spec's sub-messages do.
    CreateNetwork: unary('CreateNetwork', (req: Parameters<ControlBackend['createNetwork']>[0]) => backend.createNetwork(withoutNulls(req))),
    ListNetworks: unary('ListNetworks', (req: Parameters<ControlBackend['listNetworks']>[0]) => backend.listNetworks(req)),
    GetNetwork: unary('GetNetwork', (req: Parameters<ControlBackend['getNetwork']>[0]) => backend.getNetwork(req)),
    RemoveNetworks: unary('RemoveNetworks', (req: Parameters<ControlBackend['removeNetworks']>[0]) => backend.removeNetworks(req)),
    ServiceLogs: (call: ServerWritableStream<ServiceLogsRequest, ServiceLogLine>) => {
      // The caller going away (Ctrl-C on `logs -f`) cancels the call: stop the nodes' readers.
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      void (async () => {
        try {
          for await (const line of backend.serviceLogs(call.request, abort.signal)) {
            if (abort.signal.aborted) break;
            if (!call.write(line)) await new Promise((r) => call.once('drain', r));
          }
          call.end();
        } catch (err) {
          if (abort.signal.aborted) return;
          if (!isTsswarmError(err)) logger.error({ method: 'ServiceLogs', err: errorMessage(err) }, 'control call failed');
          // grpc-js ends a server stream with a status (and its trailers) on an 'error' event.
          call.emit('error', toGrpcStatus(err));
        }
      })();
    },
  };
}
