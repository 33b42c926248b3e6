/**
 * The one catalog of tsswarm's error codes.
 *
 * Every error a user or a caller can see has a stable code here, with the three parts the CLI
 * prints (`Error: <what>, <why>, <fix>`). Tests assert codes, never message text. Codes are
 * append-only: a released code keeps its meaning. Mapping to gRPC status happens only at the
 * gRPC edge (see grpcStatusFor in ./tsswarm-error.ts).
 *
 * `what` may contain {placeholders} filled from the error's details.
 * `retryable` says whether the same call may succeed later unchanged (leader moved, no quorum yet).
 */
export interface ErrorSpec {
  readonly what: string;
  readonly why: string;
  readonly fix: string;
  readonly retryable: boolean;
  /** The gRPC status name used at the edge; one of grpc-js's Status keys. */
  readonly grpc:
    | 'INVALID_ARGUMENT'
    | 'FAILED_PRECONDITION'
    | 'UNAVAILABLE'
    | 'DEADLINE_EXCEEDED'
    | 'NOT_FOUND'
    | 'ALREADY_EXISTS'
    | 'PERMISSION_DENIED'
    | 'UNAUTHENTICATED'
    | 'RESOURCE_EXHAUSTED'
    | 'INTERNAL'
    | 'ABORTED';
}

export const errorCatalog = {
  // ---- general -------------------------------------------------------------------------
  CONFIG_INVALID: {
    what: 'invalid {component} configuration: {problems}',
    why: 'a setting is missing, of the wrong type or out of its allowed range',
    fix: 'correct the named setting; every default and range is documented in the component config',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  INTERNAL: {
    what: 'internal error: {detail}',
    why: 'tsswarm reached a state it does not expect',
    fix: 'report this with the daemon log; restarting the daemon repairs its state from disk',
    retryable: false,
    grpc: 'INTERNAL',
  },

  // ---- raft (src/manager/raft) ---------------------------------------------------------
  RAFT_NOT_LEADER: {
    what: 'this manager ({nodeId}) is not the Raft leader',
    why: 'only the leader accepts writes; the leader is {leaderAddr}',
    fix: 'send the request to the leader, or retry: followers forward writes once a leader is known',
    retryable: true,
    grpc: 'FAILED_PRECONDITION',
  },
  RAFT_NO_QUORUM: {
    what: 'the managers have no quorum',
    why: 'fewer than a majority of the {voters} managers are reachable, so no write can commit',
    fix: 'bring enough managers back online, or recover with `tsswarm init --force-new-cluster` on a surviving manager',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  RAFT_TIMEOUT: {
    what: 'the proposal was not committed within {timeoutMs} ms',
    why: 'the leader could not replicate it to a majority in time (slow disks, a partition or a leader change)',
    fix: 'retry; if it persists, check the managers with `tsswarm node ls` and their logs',
    retryable: true,
    grpc: 'DEADLINE_EXCEEDED',
  },
  RAFT_PROPOSAL_DROPPED: {
    what: 'the proposal was dropped',
    why: '{reason}',
    fix: 'retry the request',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  RAFT_STOPPED: {
    what: 'the Raft node is stopped',
    why: 'the manager is shutting down or stopped after a fatal error',
    fix: 'restart the daemon and retry',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  RAFT_CONF_CHANGE_IN_PROGRESS: {
    what: 'another membership change is in progress',
    why: 'managers are added or removed one at a time so that two majorities can never disagree',
    fix: 'wait for the pending change to finish, then retry',
    retryable: true,
    grpc: 'FAILED_PRECONDITION',
  },
  RAFT_UNKNOWN_MEMBER: {
    what: 'manager {nodeId} is not a member of the Raft group',
    why: 'only current members can be promoted, demoted, removed or made leader',
    fix: 'check the member list with `tsswarm node ls`',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  RAFT_TRANSFER_FAILED: {
    what: 'leadership transfer to {nodeId} did not finish',
    why: '{reason}',
    fix: 'retry once the target manager has caught up',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  RAFT_CONF_CHANGE_MALFORMED: {
    what: 'a Raft membership change entry cannot be decoded: {reason}',
    why: 'the entry was written by an incompatible version or is damaged',
    fix: 'run the same tsswarm version on every manager; report this with the daemon log if it persists',
    retryable: false,
    grpc: 'INTERNAL',
  },

  // ---- raft storage (src/manager/raft/storage) -----------------------------------------
  STORAGE_CORRUPT: {
    what: 'corrupt Raft log record in {file} at offset {offset}',
    why: '{reason}; this is not a torn write at the end of the log, so committed entries may be affected',
    fix: 'do not delete the file; restore this manager from another manager (remove and re-join it) or from a backup',
    retryable: false,
    grpc: 'INTERNAL',
  },
  STORAGE_IO: {
    what: 'Raft storage I/O failed on {file}',
    why: '{reason}',
    fix: 'check the disk under --data-root (space, permissions, errors in dmesg) and restart the daemon',
    retryable: false,
    grpc: 'INTERNAL',
  },
  STORAGE_COMPACTED: {
    what: 'requested log index {index} has been compacted',
    why: 'the entries up to {firstIndex} were folded into a snapshot',
    fix: 'send the snapshot instead of log entries',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  STORAGE_UNAVAILABLE: {
    what: 'requested log index {index} is past the last stored index {lastIndex}',
    why: 'the entry has not been appended yet',
    fix: 'ask for entries up to lastIndex() only',
    retryable: false,
    grpc: 'INTERNAL',
  },
  STORAGE_SNAPSHOT_OUT_OF_DATE: {
    what: 'snapshot at index {index} is older than the current one at {current}',
    why: 'a newer snapshot was already saved',
    fix: 'nothing to do; the newer snapshot is kept',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  STORAGE_CLOSED: {
    what: 'the Raft log in {dir} is closed',
    why: 'close() was called on it (the manager is shutting down)',
    fix: 'reopen the log; a manager does this when it restarts',
    retryable: false,
    grpc: 'UNAVAILABLE',
  },

  // ---- raft transport (gRPC on 2377) ---------------------------------------------------
  TRANSPORT_UNREACHABLE: {
    what: 'manager {nodeId} at {addr} is unreachable',
    why: '{reason}',
    fix: 'check that the manager is running and that TCP port 2377 is open between managers',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  TRANSPORT_SNAPSHOT_FAILED: {
    what: 'sending the snapshot to {nodeId} failed',
    why: '{reason}',
    fix: 'the leader retries automatically; check the network between the managers if it persists',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },

  // ---- dataplane (src/dataplane) -------------------------------------------------------
  KERNEL_OP_FAILED: {
    what: 'kernel operation {op} failed on {object}',
    why: '{reason}',
    fix: 'check that the daemon runs as root on a kernel with the needed features (see DESIGN.md)',
    retryable: true,
    grpc: 'INTERNAL',
  },
  KERNEL_TOOL_MISSING: {
    what: 'the program {tool} is not installed',
    why: 'tsswarm programs the kernel with it',
    fix: 'install it (Debian: apt-get install {package})',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  TESTBED_EXISTS: {
    what: 'a test bed named {name} already exists',
    why: 'its state file is present under the test bed root',
    fix: 'pick another --name, or remove it first with `tsswarm cluster down --name {name}`',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  TESTBED_NOT_FOUND: {
    what: 'no test bed or host named {name}',
    why: 'it was never created or was removed',
    fix: 'list the test beds and their hosts with `tsswarm cluster ls`',
    retryable: false,
    grpc: 'NOT_FOUND',
  },

  // ---- IPAM (src/manager/allocator) ----------------------------------------------------
  IPAM_SUBNET_OVERLAP: {
    what: 'subnet {subnet} overlaps {other}',
    why: 'two networks with overlapping addresses would route each other\'s traffic to the wrong place',
    fix: 'choose a --subnet that overlaps no other network and no route of the hosts (`tsswarm network inspect` shows the subnets in use)',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  IPAM_POOL_EXHAUSTED: {
    what: 'no free subnet of size /{maskLength} is left in the address pools {pools}',
    why: 'every /{maskLength} of the pools overlaps an existing network or a route of the hosts',
    fix: 'remove unused networks, or give --subnet explicitly, or widen --default-addr-pool at init',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  IPAM_ADDRESSES_EXHAUSTED: {
    what: 'network {network} ({subnet}) has no free address left',
    why: 'all {size} usable addresses of the range are allocated',
    fix: 'remove tasks or services from the network, or {suggestion}',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  IPAM_INVALID: {
    what: 'invalid address setting: {detail}',
    why: '{reason}',
    fix: '{hint}',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  IPAM_ADDRESS_IN_USE: {
    what: 'address {address} of network {network} is already in use',
    why: 'an address belongs to one task, VIP or gateway at a time, and this one is {holder}',
    fix: 'request another address, or leave it out to get the next free one',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  IPAM_UNKNOWN_NETWORK: {
    what: 'network {network} has no address allocation',
    why: 'the allocator does not know the network: it was removed or is not allocated yet',
    fix: 'create the network first, or retry once its creation has been allocated',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  IPAM_VNI_IN_USE: {
    what: 'VXLAN ID {vni} is already used by network {owner}',
    why: 'two overlay networks with the same VXLAN ID would receive each other\'s traffic',
    fix: 'choose another VXLAN ID, or leave it out to get a free one',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  IPAM_VNI_EXHAUSTED: {
    what: 'no free VXLAN ID is left in {min}-{max}',
    why: 'every ID of the range is used by an overlay network',
    fix: 'remove unused overlay networks',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  IPAM_PORT_IN_USE: {
    what: 'published port {port}/{protocol} is already in use by {owner}',
    why: 'an ingress-mode port is published on every node, so it can belong to one service only',
    fix: 'publish another port, or leave published= out to get a free one from {start}-{end}',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  IPAM_PORTS_EXHAUSTED: {
    what: 'no free published port is left in {start}-{end}/{protocol}',
    why: 'ports published without a number come from this range, and every one of them is in use',
    fix: 'publish explicit ports (-p published=PORT,target=PORT), or remove services that publish ports',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },

  // ---- CA (src/manager/ca) -------------------------------------------------------------
  CA_TOKEN_INVALID: {
    what: 'the join token is malformed: {problem}',
    why: 'a join token has the form SWMTKN-1-<50 base-36 characters>-<25 base-36 characters>',
    fix: 'copy the whole token again from `tsswarm swarm join-token worker` (or `manager`) on a manager',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  CA_TOKEN_DIGEST_MISMATCH: {
    what: 'the root CA certificate shown by {addr} does not match the join token',
    why: 'the token pins the SHA-256 digest of the cluster root ({expected}) but the certificate offered hashes to {actual}: the token is stale after a CA rotation, or the address is not this cluster\'s manager',
    fix: 'get a current token with `tsswarm swarm join-token` on a manager and check the address; do not join a manager you cannot verify',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  CA_TOKEN_REJECTED: {
    what: 'the join token is not valid for this cluster',
    why: 'its secret matches neither the current worker nor the current manager token (tokens change when rotated)',
    fix: 'get a current token with `tsswarm swarm join-token worker` (or `manager`) on a manager',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  CA_CSR_INVALID: {
    what: 'the certificate signing request is invalid: {problem}',
    why: 'the CA signs only a well-formed PKCS#10 request whose self-signature verifies and whose RSA key has at least {minBits} bits',
    fix: 'let the node make a fresh key and request (its daemon does this on join and on renewal)',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  CA_CERT_INVALID: {
    what: 'the certificate of {subject} is not trusted: {problem}',
    why: 'a node certificate must be issued by this cluster\'s root CA (directly, or through the cross-signed certificate of a CA rotation) and carry a node ID and role',
    fix: 'if the node was joined to another cluster or its certificate was replaced, leave and re-join it with a current join token',
    retryable: false,
    grpc: 'UNAUTHENTICATED',
  },
  CA_CERT_EXPIRED: {
    what: 'the certificate of {subject} is valid only from {notBefore} to {notAfter}, and it is now {now}',
    why: 'the node did not renew its certificate in time (it was offline too long), or a clock is wrong',
    fix: 'check the clocks of both nodes (NTP); a node offline past its expiry must leave and re-join with a join token',
    retryable: false,
    grpc: 'UNAUTHENTICATED',
  },
  CA_CERT_WRONG_CLUSTER: {
    what: 'node {nodeId} belongs to cluster {actual}, not to this cluster ({expected})',
    why: 'the organization (O) of its certificate names another cluster',
    fix: 'make the node leave the other cluster (`tsswarm swarm leave`) and join this one with a join token',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  CA_CERT_REMOVED: {
    what: 'node {nodeId} was removed from the cluster',
    why: 'certificates of removed nodes are refused even while they are unexpired',
    fix: 'on that node run `tsswarm swarm leave --force`, then join again with a join token',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  CA_ROLE_DENIED: {
    what: 'node {nodeId} with role {role} may not call {operation}',
    why: 'this call is allowed only to {allowed}',
    fix: 'run the command on a manager, or promote the node with `tsswarm node promote {nodeId}`',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  CA_PEER_CERT_MISSING: {
    what: 'the caller of {operation} presented no trusted client certificate',
    why: 'every call on port 2377 except fetching the root CA and the first certificate needs mutual TLS',
    fix: 'join the node with a join token first; if it has joined, check that its certificate has not expired',
    retryable: false,
    grpc: 'UNAUTHENTICATED',
  },
  CA_ROOT_INVALID: {
    what: 'the stored root CA is unusable: {problem}',
    why: 'the root CA certificate and key must be a matching, self-signed CA pair in PEM form',
    fix: 'restore the CA files from a backup or another manager; `tsswarm swarm ca --rotate` makes a new root',
    retryable: false,
    grpc: 'INTERNAL',
  },

  // ---- daemon / control API (src/daemon, src/manager/controlapi) ------------------------
  SWARM_ALREADY_INITIALIZED: {
    what: 'this node is already part of a swarm (cluster {clusterId})',
    why: 'a node belongs to one cluster at a time, and init would make a second one',
    fix: 'use `tsswarm info` to see the cluster, or `tsswarm leave --force` first to start a new one',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  SWARM_NOT_INITIALIZED: {
    what: 'this node is not part of a swarm',
    why: '{operation} needs a cluster, and this daemon has neither initialized nor joined one',
    fix: 'run `tsswarm init` to make a cluster, or `tsswarm join --token TOKEN HOST:PORT` to join one',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  SWARM_NOT_MANAGER: {
    what: 'this node is not a swarm manager',
    why: '{operation} reads or changes the cluster state, which only managers hold',
    fix: 'run the command against a manager\'s daemon, or promote this node with `tsswarm node promote` on a manager',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  SWARM_INVALID_OPTION: {
    what: 'invalid value {value} for {option}',
    why: '{reason}',
    fix: 'correct {option} and run the command again; nothing was changed',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  NODE_AMBIGUOUS: {
    what: 'node reference {ref} is ambiguous',
    why: 'it matches {count} nodes by ID prefix or hostname: {matches}',
    fix: 'give more characters of the node ID, or the whole ID (`tsswarm node ls` lists them)',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  DAEMON_UNREACHABLE: {
    what: 'cannot reach the tsswarm daemon at {socket}',
    why: '{reason}',
    fix: 'start it with `tsswarm daemon -H unix://{path}` (as root), or point -H / TSSWARM_HOST at a running daemon\'s socket',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  DAEMON_ALREADY_RUNNING: {
    what: 'another tsswarm daemon is already running with {resource}',
    why: '{reason}',
    fix: 'stop that daemon first, or give this one its own --data-root and -H socket',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  DAEMON_STATE_INVALID: {
    what: 'the daemon state in {path} cannot be read',
    why: '{reason}',
    fix: 'restore --data-root from a backup, or move it aside and `tsswarm join` the node again',
    retryable: false,
    grpc: 'INTERNAL',
  },
  CLI_USAGE: {
    what: 'invalid command line: {problem}',
    why: '{reason}',
    fix: 'see `tsswarm {command} --help` for the accepted arguments',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  WHOAMI_LISTEN_FAILED: {
    what: 'whoami cannot listen on TCP port {port}',
    why: '{reason}',
    fix: 'choose a free port with --port (0 picks one), or stop what holds it',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },

  // ---- store (src/manager/store) -------------------------------------------------------
  STORE_NOT_FOUND: {
    what: '{kind} {id} does not exist',
    why: 'no object of that kind has this ID (it was never created, or it was removed)',
    fix: 'check the ID or name with the matching `ls` command',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  STORE_ID_CONFLICT: {
    what: '{kind} {id} already exists',
    why: 'object IDs are unique within their kind',
    fix: 'create the object with a fresh ID',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  STORE_NAME_CONFLICT: {
    what: 'the {kind} name {name} is already in use by {id}',
    why: 'names are unique per kind, compared without regard to case, as in Docker',
    fix: 'choose another name, or remove the other {kind} first',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  STORE_VERSION_CONFLICT: {
    what: '{kind} {id} changed since it was read (version {expected} read, version {actual} now)',
    why: 'another writer updated it first; updates name the version they read so that none is lost',
    fix: 'read the object again, reapply the change and retry',
    retryable: true,
    grpc: 'ABORTED',
  },
  STORE_INVALID_OBJECT: {
    what: 'invalid {kind} object: {problem}',
    why: 'objects must match proto/objects.proto and carry an ID',
    fix: 'correct the named field',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  STORE_TX_TOO_LARGE: {
    what: 'the store transaction is too large ({bytes} bytes, the limit is {limit})',
    why: 'one transaction is one Raft entry, and entries are capped so that replication and snapshots stay fast',
    fix: 'split the change into smaller transactions (store.batch does this for independent changes)',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  STORE_WATCH_TOO_SLOW: {
    what: 'the store watch was closed: its reader fell {queued} events behind',
    why: 'a watcher that does not keep up is cut off so that it cannot hold up the managers or fill memory',
    fix: 'watch again with viewAndWatch (it returns a fresh snapshot), and consume events faster or filter them',
    retryable: true,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  STORE_OUTCOME_UNKNOWN: {
    what: 'the outcome of the store write is unknown',
    why: 'its entry was committed, but this manager caught up through a snapshot that already contained it, so it could not see whether the change applied or was refused',
    fix: 'read the objects again to see whether the change is there, and retry if it is not',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  STORE_NOT_WRITABLE: {
    what: 'the store cannot take writes: {reason}',
    why: 'writes go through Raft, and this store has no Raft node attached (or it was closed)',
    fix: 'attach the store to a started RaftNode before writing',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  // ---- services (src/manager/controlapi/service-*, src/cli/commands/service) -----------
  SERVICE_INVALID_OPTION: {
    what: 'invalid value {value} for {option}',
    why: '{reason}',
    fix: 'correct {option} and run the command again; nothing was created or changed',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  SERVICE_NOT_FOUND: {
    what: 'service {ref} not found',
    why: 'no service has this ID, ID prefix or name',
    fix: 'list the services with `tsswarm service ls` and use one of their names or IDs',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  SERVICE_AMBIGUOUS: {
    what: 'service reference {ref} is ambiguous',
    why: 'it is a prefix of the IDs of {count} services',
    fix: 'use the service name or more characters of its ID',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  SERVICE_NAME_IN_USE: {
    what: 'a service named {name} already exists ({id})',
    why: 'service names are unique in a swarm, compared without regard to case, as in Docker',
    fix: 'choose another --name, or update or remove the existing service',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  SERVICE_NO_PREVIOUS_SPEC: {
    what: 'service {name} has no previous version to roll back to',
    why: 'a rollback restores the spec in force before the last update, and this service was never updated',
    fix: 'update the service to the wanted spec with `tsswarm service update` instead',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  SERVICE_NOT_REPLICATED: {
    what: 'service {name} is a global service and cannot be scaled',
    why: 'scale sets a replica count, and a global service runs one task on every eligible node instead',
    fix: 'scale replicated services only; constrain a global service with --constraint to change where it runs',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },

  SERVICE_UPDATE_STOPPED: {
    what: 'the update of service {name} stopped: {reason}',
    why: 'tasks of the new version failed, so the update paused or rolled back as its failure action says',
    fix: 'see the failed tasks with `tsswarm service ps {name}`; correct the spec and update again, or roll back with `tsswarm service rollback {name}`',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },

  // ---- dispatcher (src/manager/dispatcher, src/worker/agent) ---------------------------
  // (dispatcher codes go here)
  DISPATCHER_LOG_SUBSCRIPTION_INVALID: {
    what: 'node {nodeId} may not publish logs for subscription {subscriptionId}',
    why: '{reason}',
    fix: 'nothing was delivered; a node publishes only the subscriptions its session message lists, for its own tasks',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  LOGS_NODE_UNAVAILABLE: {
    what: 'the logs of task {taskId} cannot be read from node {nodeId}',
    why: '{reason}',
    fix: 'check the node with `tsswarm node ls`; once it is Ready again, run `tsswarm service logs` again',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  LOGS_TASK_FAILED: {
    what: 'reading the logs of task {taskId} on node {nodeId} failed',
    why: '{reason}',
    fix: 'see the node\'s daemon log for the cause, then run `tsswarm service logs` again',
    retryable: true,
    grpc: 'INTERNAL',
  },
  AGENT_NO_LOG_SOURCE: {
    what: 'node {nodeId} cannot read the logs of task {taskId}',
    why: 'the daemon runs the agent without a task executor, so it keeps no task logs',
    fix: 'run a tsswarm version whose daemon has an executor on that node',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  DISPATCHER_NOT_LEADER: {
    what: 'manager {nodeId} does not dispatch: it is not the Raft leader',
    why: 'only the leader runs the dispatcher; the leader is {leaderId} at {leaderAddr}',
    fix: 'the agent dials the leader by itself; if no leader is named, wait for an election',
    retryable: true,
    grpc: 'FAILED_PRECONDITION',
  },
  DISPATCHER_SESSION_INVALID: {
    what: 'session {sessionId} of node {nodeId} is not open on this dispatcher',
    why: '{reason}',
    fix: 'the agent opens a new session by itself; if this repeats, check that the node heartbeats within 3 periods',
    retryable: true,
    grpc: 'NOT_FOUND',
  },
  DISPATCHER_TASK_NOT_OWNED: {
    what: 'node {nodeId} may not report the status of task {taskId}',
    why: 'the task is assigned to node {ownerId}, and a node reports only its own tasks',
    fix: 'nothing was written; report only tasks the dispatcher assigned to this node',
    retryable: false,
    grpc: 'PERMISSION_DENIED',
  },
  DISPATCHER_INVALID_REQUEST: {
    what: 'invalid dispatcher request from node {nodeId}: {reason}',
    why: 'the agent sent a field that is missing or out of range',
    fix: 'nothing was changed; upgrade the node to a tsswarm version that matches the managers',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  AGENT_STOPPED: {
    what: 'the agent of node {nodeId} is stopped',
    why: 'the daemon is stopping or left the swarm',
    fix: 'restart the daemon',
    retryable: false,
    grpc: 'UNAVAILABLE',
  },
  AGENT_NO_MANAGER: {
    what: 'node {nodeId} knows no manager to open a session to',
    why: 'its list of managers is empty',
    fix: 'rejoin the swarm with `tsswarm join --token TOKEN MANAGER:2377`',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  TASK_NO_EXECUTOR: {
    what: 'task {taskId} was rejected: this node has no task executor yet',
    why: 'the daemon runs the agent without an executor, so it cannot run any task',
    fix: 'run a tsswarm version whose daemon has an executor, or drain this node with `tsswarm node update --availability drain`',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },

  // ---- orchestrator / scheduler (src/manager/orchestrator, src/manager/scheduler) -----
  // (orchestrator and scheduler codes go here)
  PLACEMENT_INVALID_CONSTRAINT: {
    what: 'invalid placement constraint {expr}',
    why: '{reason}',
    fix: 'write each --constraint as KEY==VALUE or KEY!=VALUE with KEY one of node.id, node.hostname, node.role, node.ip, node.platform.os, node.platform.arch, node.labels.NAME, engine.labels.NAME; nothing was created or changed',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  PLACEMENT_INVALID_PREFERENCE: {
    what: 'invalid placement preference {expr}',
    why: '{reason}',
    fix: 'write each --placement-pref as spread=node.labels.NAME (or spread=engine.labels.NAME); nothing was created or changed',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },

  // ---- worker tasks (src/worker/executor, src/worker/runtime, src/worker/sandbox) ------
  // (worker task codes go here)
  TASK_PROGRAM_NOT_FOUND: {
    what: 'program "{program}" was not found on this node',
    why: 'the process runtime runs a program from the host: it must be an executable on the PATH ({path}) or an absolute path',
    fix: 'install the program on every node that may run the task, or give its absolute path as the IMAGE',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  TASK_IMAGE_NOT_FOUND: {
    what: 'image "{image}" is not in the Docker Engine of this node',
    why: 'images cannot be pulled here: the docker runtime only runs images the local engine already has',
    fix: 'load or import the image on every node first (`docker load`, or `docker import` of a root file system)',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  TASK_RUNTIME_UNAVAILABLE: {
    what: 'runtime {runtime} is not available on this node: {reason}',
    why: 'the node has no working backend for that runtime (for docker: no engine answering on {socket})',
    fix: 'start the Docker Engine on the node (Debian: `apt-get install docker.io`), or use --runtime process',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  TASK_TEMPLATE_INVALID: {
    what: 'template "{template}" cannot be expanded: {reason}',
    why: 'hostname and env templates know only {{.Service.Name}}, {{.Task.Name}}, {{.Task.Slot}}, {{.Task.ID}}, {{.Node.ID}} and {{.Node.Hostname}}',
    fix: 'correct the template in the service (`tsswarm service update --hostname` or `--env-add`)',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  TASK_SPEC_INVALID: {
    what: 'task {taskId} cannot run: {reason}',
    why: 'its spec has a value this node cannot use',
    fix: 'correct the service spec with `tsswarm service update`',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  TASK_START_FAILED: {
    what: 'task {taskId} did not start: {reason}',
    why: 'the runtime could not create its process or container',
    fix: 'see the daemon log of this node for the runtime\'s error; the orchestrator replaces the task',
    retryable: false,
    grpc: 'INTERNAL',
  },
  TASK_SANDBOX_FAILED: {
    what: 'the network sandbox of task {taskId} could not be made: {reason}',
    why: 'the dataplane failed to program the kernel for it',
    fix: 'see the daemon log for the failed dataplane operation; the orchestrator replaces the task',
    retryable: true,
    grpc: 'INTERNAL',
  },
  TASK_NOT_FOUND: {
    what: 'task {taskId} is not known on this node',
    why: 'it never ran here, or it was unassigned and its files removed',
    fix: 'ask the node that runs the task (`tsswarm service ps` shows where)',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  TASK_EXEC_FAILED: {
    what: 'a command could not be run inside task {taskId}: {reason}',
    why: 'the task is not running, or the runtime failed to enter it',
    fix: 'check that the task runs (`tsswarm service ps`) and that its health-check command exists inside it',
    retryable: true,
    grpc: 'FAILED_PRECONDITION',
  },
  DOCKER_API_ERROR: {
    what: 'the Docker Engine answered {method} {path} with {status}: {message}',
    why: 'the engine refused or failed the call',
    fix: 'see the engine\'s own log (`journalctl -u docker` or /var/log/dockerd.log)',
    retryable: false,
    grpc: 'INTERNAL',
  },

  // ---- gossip (src/gossip) -----------------------------------------------------------
  // (gossip codes go here)
  GOSSIP_MALFORMED_MESSAGE: {
    what: 'a gossip message could not be decoded: {reason}',
    why: 'it is truncated, oversized, of an unknown type or from an incompatible wire version',
    fix: 'nothing to do for one message (it is dropped and counted); if the count grows, check that every node runs a compatible tsswarm',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  GOSSIP_INVALID_KEY: {
    what: 'gossip key {index} is not usable: {reason}',
    why: 'gossip keys are AES-256-GCM keys of exactly 32 bytes, and a keyring holds at least one',
    fix: 'pass the keys the managers hand out (Cluster.network_bootstrap_keys), newest last',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  GOSSIP_INVALID_ARGUMENT: {
    what: 'invalid gossip {field}: {problem}',
    why: 'network IDs, table names and keys are non-empty strings of at most 1 KiB and values at most 64 KiB',
    fix: 'correct the named argument',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  GOSSIP_NOT_IN_NETWORK: {
    what: 'this node has not joined gossip network {network}',
    why: 'tables are shared only among the nodes that joined their network',
    fix: 'call joinNetwork({network}) first',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  GOSSIP_STOPPED: {
    what: 'the gossip node is stopped',
    why: 'stop() or leave() was called, or it failed to start',
    fix: 'start a new gossip node',
    retryable: false,
    grpc: 'UNAVAILABLE',
  },
  GOSSIP_BIND_FAILED: {
    what: 'gossip cannot listen on {addr}: {reason}',
    why: 'another process holds the port, or the address is not on this host',
    fix: 'free TCP and UDP port {port} on that address, or pick another advertise address',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
  GOSSIP_JOIN_FAILED: {
    what: 'no gossip seed answered: {seeds}',
    why: 'every seed address was unreachable, refused the connection or uses other keys',
    fix: 'check that the managers run and that TCP+UDP 7946 is open between the nodes; gossip retries the seeds by itself',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },

  // ---- networks (src/manager/controlapi/network-*, src/manager/allocator, src/cli/commands/network) ----
  NETWORK_INVALID_OPTION: {
    what: 'invalid value {value} for {option}',
    why: '{reason}',
    fix: 'correct {option} and run the command again; nothing was created or changed',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  NETWORK_ENCRYPTION_UNSUPPORTED: {
    what: 'network {name} cannot be created with -o encrypted',
    why: 'sealed (encrypted) overlay traffic is not built yet, and a network that looked encrypted but carried cleartext would be worse than a refusal',
    fix: 'create the network without -o encrypted; do not send traffic that must be encrypted over it',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  NETWORK_NOT_FOUND: {
    what: 'network {ref} not found',
    why: 'no network has this ID, ID prefix or name',
    fix: 'list the networks with `tsswarm network ls` and use one of their names or IDs',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  NETWORK_AMBIGUOUS: {
    what: 'network reference {ref} is ambiguous',
    why: 'it is a prefix of the IDs of {count} networks',
    fix: 'use the network name or more characters of its ID',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  NETWORK_NAME_IN_USE: {
    what: 'a network named {name} already exists ({id})',
    why: 'network names are unique in a swarm, compared without regard to case, since services and tasks name networks by them',
    fix: 'choose another name, or remove the existing network with `tsswarm network rm {name}` first',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  NETWORK_INGRESS_EXISTS: {
    what: 'an ingress network already exists ({name})',
    why: 'a swarm has at most one ingress network: the routing mesh uses one network on every node',
    fix: 'use the existing ingress network, or remove it first with `tsswarm network rm {name}`',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  NETWORK_IN_USE: {
    what: 'network {name} is in use by {users}',
    why: 'removing it would cut off tasks that have addresses on it',
    fix: 'detach the services first (`tsswarm service update --network-rm {name} SERVICE` or `tsswarm service rm SERVICE`), wait for their tasks to stop, then remove the network',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  SERVICE_NETWORK_NOT_FOUND: {
    what: 'service {service} names network {ref}, which does not exist',
    why: 'a service can only attach to networks created with `tsswarm network create`',
    fix: 'create the network first, or correct --network; nothing was created or changed',
    retryable: false,
    grpc: 'NOT_FOUND',
  },
  SERVICE_NETWORK_INGRESS: {
    what: 'service {service} cannot attach to the ingress network {ref} with --network',
    why: 'the ingress network carries only the routing mesh; services reach it by publishing ports',
    fix: 'publish ports with -p instead, and attach the service to an ordinary overlay network',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },
  NETWORK_INGRESS_MISSING: {
    what: 'service {service} publishes ports through the routing mesh, but the swarm has no ingress network',
    why: 'ingress-mode ports are published on every node through the ingress network, which was removed',
    fix: 'create one with `tsswarm network create --ingress --driver overlay ingress`, or publish the ports with mode=host; nothing was created or changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },

  // ---- node networks (src/worker/sandbox, src/daemon/node-networks*) ----
  // (node network codes go here)
  TASK_NETWORK_ATTACHMENT_INVALID: {
    what: 'task {taskId} cannot be attached to network {networkId}: {reason}',
    why: 'the network attachment the managers sent for it is incomplete, contradicts itself, or contradicts a network this node already plumbs for another task',
    fix: 'nothing was changed on this node and the task fails; check `network inspect` of the network (VNI, subnet, gateway, MTU option) and `service inspect`; the orchestrator replaces the task',
    retryable: false,
    grpc: 'INVALID_ARGUMENT',
  },

  // ---- testbed (src/testbed) ----
  TESTBED_UP_FAILED: {
    what: 'cluster {name} could not be brought up: {step} failed',
    why: '{reason}',
    fix: 'everything this `cluster up` made was removed again; correct the cause above (the daemon log tail is part of it) and run it again',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  TESTBED_PROCESS_STUCK: {
    what: 'processes {pids} in the namespaces of test bed {name} did not end after SIGKILL',
    why: 'a process in uninterruptible sleep (state D, e.g. stuck on I/O) ignores every signal until its kernel call returns',
    fix: 'look at them with `ps -o pid,stat,wchan,cmd -p {pids}`, then run `tsswarm cluster down --name {name}` again',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },

  // ---- node management (src/daemon, src/manager/controlapi: leave, promote, demote, rm, update, ca) ----
  // (node management codes go here)
  NODE_IS_MANAGER: {
    what: 'node {nodeId} is a manager and cannot be removed',
    why: 'removing a manager without leaving Raft first would shrink the quorum behind the cluster\'s back',
    fix: 'demote it first with `tsswarm node demote {nodeId}`, then remove it; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  NODE_NOT_DOWN: {
    what: 'node {nodeId} is not down (its status is {state}) and cannot be removed',
    why: 'a node that is still running would keep running tasks the managers no longer know about',
    fix: 'stop the node or run `tsswarm leave` on it first, or use `tsswarm node rm --force`; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  DEMOTE_WOULD_LOSE_QUORUM: {
    what: 'cannot demote manager {nodeId}',
    why: 'without it only {reachable} of the remaining {remaining} managers would be reachable, fewer than the {quorum} a quorum needs, so the cluster could no longer elect a leader or change anything',
    fix: 'bring the unreachable managers back (or promote another node) first; nothing was changed',
    retryable: true,
    grpc: 'FAILED_PRECONDITION',
  },
  DEMOTE_LAST_MANAGER: {
    what: 'cannot demote {nodeId}, the last manager of the swarm',
    why: 'a swarm needs at least one manager to hold its state',
    fix: 'promote another node first, or `tsswarm leave --force` to abandon the swarm; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  LEAVE_MANAGER_REFUSED: {
    what: 'you are attempting to leave the swarm on a node that is participating as a manager',
    why: '{reason}',
    fix: 'demote this node first (`tsswarm node demote` on a manager), or use `tsswarm leave --force` to ignore this warning; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  AUTOLOCK_UNSUPPORTED: {
    what: 'autolock cannot be turned on',
    why: 'tsswarm does not support autolock yet: the Raft log and keys are not encrypted at rest',
    fix: 'leave --autolock unset or set it to false; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  PROMOTE_FORMER_MANAGER: {
    what: 'cannot promote node {nodeId}: it was a manager before and was demoted',
    why: 'its Raft member ID is its node ID, and a member added again under an ID Raft already removed would replay its own removal and stop',
    fix: 'run `tsswarm leave` on that host and join it again (it gets a new node ID), then promote it; nothing was changed',
    retryable: false,
    grpc: 'FAILED_PRECONDITION',
  },
  NODE_ROLE_CHANGE_FAILED: {
    what: 'the role of node {nodeId} could not be changed to {role}',
    why: '{reason}',
    fix: 'check `tsswarm node ls` and the daemon logs, then run the command again',
    retryable: true,
    grpc: 'UNAVAILABLE',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;
