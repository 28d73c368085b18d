import { AsyncLocalStorage } from 'node:async_hooks';
import { InterceptingCall, type Interceptor, ListenerBuilder, RequesterBuilder } from '@grpc/grpc-js';
import proto from '@temporalio/proto';

/**
 * What a call through the SDK's client needs from the wire that the SDK does not give:
 * - a request ID of ours, derived from the event, on Signal and SignalWithStart requests (the SDK sets
 *   a random one, and only the request ID makes the server deliver a redelivered event's signal once);
 * - the `started` flag of Start, SignalWithStart and ExecuteMultiOperation responses, which says
 *   whether the request started a run (the SDK reads the run ID and drops the flag), and whether an
 *   update's answer already holds its outcome (a rejection comes back that way).
 *
 * Everything else is the SDK's: the user's data converter, codecs and WorkflowClient interceptors run as
 * for any call, before the request is encoded. A gRPC interceptor then appends the request ID field to
 * the encoded request (a singular protobuf field that appears twice takes its last value:
 * https://protobuf.dev/programming-guides/encoding/#last-one-wins) and reads `started` from the answer.
 * The calls are marked with AsyncLocalStorage, as the SDK marks deadlines and metadata.
 */
export interface WireCall {
  /** The request ID the Signal or SignalWithStart request must carry. */
  readonly requestId?: string;
  /** Set from the answer: whether the request started a run. */
  started?: boolean;
  /**
   * Set from the answer to an update request when it already holds the update's outcome: `failed`
   * when the update failed before it could be accepted and run (a validator rejected it).
   */
  updateSettled?: 'failed' | 'completed';
  /**
   * How many times the request went out, counted by the retry interceptor: more than once when an
   * answer was lost and the request was sent again, with the same IDs.
   */
  sends?: number;
}

const storage = new AsyncLocalStorage<WireCall>();

/** Runs `fn`, whose SDK call gets what `call` asks for and reports into it. */
export const onWire = <T>(call: WireCall, fn: () => Promise<T>): Promise<T> => storage.run(call, fn);

/** The call `onWire` marks, read where a gRPC interceptor is made: in its caller's context. */
export const wireCallInProgress = (): WireCall | undefined => storage.getStore();

interface ReflectedType {
  readonly fields: Readonly<Record<string, { readonly id: number }>>;
}
const { temporal } = proto;
const v1 = temporal.api.workflowservice.v1;
const fieldNumber = (type: unknown, field: string): number => (type as ReflectedType).fields[field]?.id ?? 0;
const path = (method: string) => `/temporal.api.workflowservice.v1.WorkflowService/${method}`;

/** The request ID field of the requests whose SDK method sets a random one. */
const REQUEST_ID_FIELDS = new Map<string, number>([
  [path('SignalWorkflowExecution'), fieldNumber(v1.SignalWorkflowExecutionRequest, 'requestId')],
  [
    path('SignalWithStartWorkflowExecution'),
    fieldNumber(v1.SignalWithStartWorkflowExecutionRequest, 'requestId'),
  ],
]);

type Outcome = proto.temporal.api.update.v1.IOutcome | null | undefined;
const settled = (outcome: Outcome): WireCall['updateSettled'] =>
  outcome?.failure ? 'failed' : outcome?.success ? 'completed' : undefined;

/** What each answer tells that the SDK drops: whether a run was started, how an update stands. */
const READ = new Map<string, (answer: Uint8Array) => Pick<WireCall, 'started' | 'updateSettled'>>([
  [
    path('StartWorkflowExecution'),
    (answer) => ({ started: v1.StartWorkflowExecutionResponse.decode(answer).started }),
  ],
  [
    path('SignalWithStartWorkflowExecution'),
    (answer) => ({ started: v1.SignalWithStartWorkflowExecutionResponse.decode(answer).started }),
  ],
  [
    path('ExecuteMultiOperation'),
    (answer) => {
      const [start, update] = v1.ExecuteMultiOperationResponse.decode(answer).responses;
      return {
        started: start?.startWorkflow?.started ?? undefined,
        updateSettled: settled(update?.updateWorkflow?.outcome),
      };
    },
  ],
  [
    path('UpdateWorkflowExecution'),
    (answer) => ({ updateSettled: settled(v1.UpdateWorkflowExecutionResponse.decode(answer).outcome) }),
  ],
]);

const varint = (value: number): number[] => {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  bytes.push(rest);
  return bytes;
};

/** `message` with a string field appended (wire type 2: length-delimited). */
export const withStringField = (message: Uint8Array, field: number, value: string): Uint8Array => {
  const text = Buffer.from(value, 'utf8');
  return Buffer.concat([message, Buffer.from([...varint((field << 3) | 2), ...varint(text.length)]), text]);
};

/**
 * The gRPC interceptor that carries out `onWire`. It must come first on the connection, before the
 * retry interceptor, so that it sees each call once, in the caller's context, and every retried
 * attempt resends the request it rewrote.
 */
export const wireInterceptor = (): Interceptor => (options, nextCall) => {
  const call = wireCallInProgress();
  if (call === undefined) return new InterceptingCall(nextCall(options));
  const method = options.method_definition.path;
  const field = call.requestId === undefined ? undefined : REQUEST_ID_FIELDS.get(method);
  const read = READ.get(method);
  const requester = new RequesterBuilder();
  if (field !== undefined && call.requestId !== undefined) {
    const requestId = call.requestId;
    requester.withSendMessage((message: Uint8Array, next) =>
      next(withStringField(message, field, requestId)),
    );
  }
  if (read !== undefined) {
    requester.withStart((metadata, _listener, next) =>
      next(
        metadata,
        new ListenerBuilder()
          // A unary call passes its message on with its status, so a refusal passes null. Nothing
          // thrown here may escape: it would surface in a gRPC callback, outside any promise.
          .withOnReceiveMessage((answer: Uint8Array | null, nextMessage) => {
            if (answer instanceof Uint8Array) {
              try {
                Object.assign(call, read(answer));
              } catch {
                // An answer we cannot read leaves the flags unset; the SDK decodes it as it would.
              }
            }
            nextMessage(answer);
          })
          .build(),
      ),
    );
  }
  return new InterceptingCall(nextCall(options), requester.build());
};
