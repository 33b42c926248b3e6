import { Client, Server, type ChannelCredentials, type ServerCredentials, type ServiceError, type UntypedHandleCall } from '@grpc/grpc-js';
import { NODE_CHANNEL_OPTIONS } from '../../../src/manager/ca/index.js';

/** Raw-bytes unary methods, so the CA tests need no .proto. */
const raw = (b: Buffer): Buffer => b;

export function rawMethod(path: string) {
  return { path, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw };
}

/** Starts a server on 127.0.0.1 with one unary handler per path; resolves to its port. */
export async function startRawServer(credentials: ServerCredentials, handlers: Record<string, UntypedHandleCall>): Promise<{ server: Server; port: number }> {
  const server = new Server();
  const definition = Object.fromEntries(Object.keys(handlers).map((path) => [path, rawMethod(path)]));
  server.addService(definition, handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port };
}

export type CallResult = { value: string } | { code: number; details: string; errorCode: string | undefined };

/** One unary call on a fresh channel, closed afterwards; a 5 s deadline so nothing hangs. */
export async function unaryCall(port: number, credentials: ChannelCredentials, path: string): Promise<CallResult> {
  const client = new Client(`127.0.0.1:${port}`, credentials, NODE_CHANNEL_OPTIONS);
  try {
    return await new Promise<CallResult>((resolve) => {
      client.makeUnaryRequest(path, raw, raw, Buffer.alloc(0), { deadline: Date.now() + 5000 }, (err: ServiceError | null, value?: Buffer) => {
        if (err) {
          const code = err.metadata?.get('tsswarm-error-code')[0];
          resolve({ code: err.code, details: err.details, errorCode: code === undefined ? undefined : String(code) });
        } else {
          resolve({ value: String(value) });
        }
      });
    });
  } finally {
    client.close();
  }
}
