/**
 * What this node's gossip knows of one overlay network (`network inspect --verbose`, as
 * Docker's "Peers" and "Services"): the nodes that joined the network and the endpoints in
 * its endpoint table. Built by the daemon's node networks, shown by the local Control API.
 */
export interface LocalNetworkPeer {
  readonly nodeId: string;
  /** The node's gossip address, host:port. */
  readonly addr: string;
}

export interface LocalNetworkEndpoint {
  readonly taskId: string;
  readonly taskName: string;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly ip: string;
  readonly mac: string;
  /** The data-path address of the node that runs the task. */
  readonly vtep: string;
  /** The entry's owner. */
  readonly nodeId: string;
  /** The service's VIP on this network (VIP mode); what the other tasks' load balancers use. */
  readonly vip?: string;
  /** The service's ports published through the routing mesh; what every ingress sandbox uses. */
  readonly ports?: ReadonlyArray<{ readonly protocol: 'tcp' | 'udp'; readonly published: number; readonly target: number }>;
}

export interface LocalNetworkView {
  readonly localNodeId: string;
  readonly peers: readonly LocalNetworkPeer[];
  readonly endpoints: readonly LocalNetworkEndpoint[];
}
