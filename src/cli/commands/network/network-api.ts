import type {
  CreateNetworkRequest, GetNetworkRequest, GetNetworkResponse, ListNetworksResponse, NetworkResponse, RemoveNetworksRequest,
  RemoveNetworksResponse, ListServicesResponse,
} from '../../../manager/controlapi/messages.js';
import type { Command } from 'commander';
import { connectDaemon } from '../../daemon-client.js';

/** The network calls of the Control API, as the CLI uses them (ControlClient implements them). */
export interface NetworkApi {
  createNetwork(req: CreateNetworkRequest): Promise<NetworkResponse>;
  listNetworks(): Promise<ListNetworksResponse>;
  getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse>;
  removeNetworks(req: RemoveNetworksRequest): Promise<RemoveNetworksResponse>;
  listServices(): Promise<ListServicesResponse>;
}

/** Runs one command body with the daemon's network calls, closing the connection afterwards. */
export async function withNetworkApi<T>(cmd: Command, fn: (api: NetworkApi) => Promise<T>): Promise<T> {
  const client = connectDaemon(cmd);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
