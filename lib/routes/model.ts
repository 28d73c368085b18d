import type { InputValidator } from './inputSchema.ts';
import type {
  HttpMethod,
  IdConflictPolicy,
  IdReusePolicy,
  Route,
  SearchAttributeTypeName,
  StartOptionsSpec,
} from './schema.ts';
import type { TriggerKind } from './triggers.ts';

/*
 * The routes model: what a compiled routes file is (compile.ts makes it, load.ts loads it), and the
 * defaults and template roots that the compiler, the normalizers and the docs share.
 */

/** A workflow type from the allow-list, with every default filled in. */
export interface AllowedWorkflow {
  readonly taskQueue: string;
  /** Its input schema, compiled: the canonical envelope's input must satisfy it. */
  readonly inputValidator?: InputValidator;
  readonly idReusePolicy: IdReusePolicy;
  readonly idConflictPolicy: IdConflictPolicy;
  /** Its static start options; a route's, rendered, go on top. */
  readonly options: StartOptionsSpec;
  /** Its namespace, address and credentials secret, where they are not the environment's. */
  readonly target: { readonly namespace?: string; readonly address?: string; readonly secretId?: string };
}

export interface HttpRoute {
  readonly route: Route;
  readonly method: HttpMethod;
  readonly pattern: RegExp;
  /** Every header its templates name (`{headers.<name>}`): credential headers it may read. */
  readonly namedHeaders: ReadonlySet<string>;
}

/** The routes file, validated and ready for matching. */
export interface Routes {
  readonly workflows: ReadonlyMap<string, AllowedWorkflow>;
  readonly http: readonly HttpRoute[];
  readonly sqs: readonly Route[];
  readonly eventbridge: readonly Route[];
  readonly schedule: readonly Route[];
  readonly scheduler: readonly Route[];
  readonly sns: readonly Route[];
  readonly s3: readonly Route[];
  readonly kinesis: readonly Route[];
  readonly dynamodb: readonly Route[];
  /** The declared type of every custom search attribute the file sets. */
  readonly searchAttributes: ReadonlyMap<string, SearchAttributeTypeName>;
  /** Each route's input schema, compiled: its own, else its workflow type's. */
  readonly inputValidators: ReadonlyMap<string, InputValidator | undefined>;
}

/**
 * The default reuse policy: a closed workflow's ID is never reused, so an event that AWS delivers
 * again after its workflow completed (or failed) does not start a second run. Workflows that should
 * re-run after a failure can opt into ALLOW_DUPLICATE_FAILED_ONLY in the routes file.
 */
export const DEFAULT_ID_REUSE_POLICY: IdReusePolicy = 'REJECT_DUPLICATE';
export const DEFAULT_ID_CONFLICT_POLICY: IdConflictPolicy = 'USE_EXISTING';

/** The roots a template path may start from, per trigger. */
export const TEMPLATE_ROOTS: Readonly<Record<TriggerKind, readonly string[]>> = {
  http: ['body', 'headers', 'query', 'cookies', 'path', 'requestId'],
  sqs: ['body', 'attributes', 'messageId', 'queue', 'groupId'],
  eventbridge: ['detail', 'source', 'detailType', 'id', 'time', 'account', 'region', 'resources'],
  schedule: ['time', 'rule', 'id'],
  scheduler: ['time', 'name', 'group', 'scheduleArn', 'detail'],
  sns: ['message', 'subject', 'attributes', 'messageId', 'topic', 'timestamp'],
  s3: ['bucket', 'key', 'size', 'eTag', 'versionId', 'sequencer', 'eventName', 'eventTime', 'region'],
  kinesis: ['data', 'partitionKey', 'sequenceNumber', 'stream', 'shardId', 'arrivalTime'],
  dynamodb: ['newImage', 'oldImage', 'keys', 'eventName', 'eventId', 'table', 'sequenceNumber'],
};
