import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import type { WireAppliedRequest, WireAppliedResponse } from '../transport/index.js';
import type { RecordingStateMachine } from './recording-state-machine.js';

/** service tsswarm.raft.MemberProbe: what the recording state machine has applied. */
export function probeServiceImplementation(sm: RecordingStateMachine): UntypedServiceImplementation {
  return {
    Applied(call: ServerUnaryCall<WireAppliedRequest, WireAppliedResponse>, callback: sendUnaryData<WireAppliedResponse>): void {
      callback(null, sm.report(call.request.includeIds));
    },
  };
}
