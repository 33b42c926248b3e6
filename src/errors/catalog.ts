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

  // ---- IPAM (src/manager/allocator) ----------------------------------------------------
  IPAM_SUBNET_OVERLAP: {
    what: 'subnet {subnet} overlaps {other}',
    why: 'two networks with overlapping addresses would route each other\'s traffic to the wrong place',
    fix: 'choose another --subnet, or remove the network that uses {other}',
    retryable: false,
    grpc: 'ALREADY_EXISTS',
  },
  IPAM_POOL_EXHAUSTED: {
    what: 'no free subnet of size /{maskLength} is left in the address pools {pools}',
    why: 'every subnet of the pools is used by a network',
    fix: 'remove unused networks, or give --subnet explicitly, or widen --default-addr-pool at init',
    retryable: false,
    grpc: 'RESOURCE_EXHAUSTED',
  },
  IPAM_ADDRESSES_EXHAUSTED: {
    what: 'network {network} ({subnet}) has no free address left',
    why: 'all {size} usable addresses of the range are allocated',
    fix: 'remove tasks from the network, or recreate it with a larger --subnet (e.g. a /20)',
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
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalog;
