import type proto from '@temporalio/proto';

export type History = proto.temporal.api.history.v1.IHistoryEvent[];

/** The signals a workflow's history records. */
export const signals = (history: History): number =>
  history.filter((event) => event.workflowExecutionSignaledEventAttributes).length;

/** The updates a workflow's history records as accepted: each one ran once. */
export const acceptedUpdates = (history: History): number =>
  history.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes).length;
