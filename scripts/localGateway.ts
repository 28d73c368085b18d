import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { lambdaContext } from './lambdaContext.ts';

/**
 * A local stand-in for an API Gateway HTTP API with one `$default` route and a Lambda proxy integration
 * (payload format 2.0): each request becomes the event, and the handler's result the response, as in
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html.
 */

export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;

export interface LocalGatewayOptions {
  readonly handler: HttpApiHandler;
  /** 0, the default, lets the kernel choose a free port. */
  readonly port?: number;
  readonly host?: string;
  /** The Lambda timeout each invocation's context counts down from (default 29 s). */
  readonly timeoutMs?: number;
  readonly functionName?: string;
}

export interface LocalGateway {
  readonly url: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const ACCOUNT_ID = '123456789012';
const MAX_BODY_BYTES = 10 * 1024 * 1024; // API Gateway's payload quota
// API Gateway passes these bodies as text and base64-encodes any other.
const TEXT_BODY = /^text\/|[/+](json|xml)\b|^application\/(x-www-form-urlencoded|javascript)\b/i;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const log = (message: string): void => {
  process.stderr.write(`[gateway] ${message}\n`);
};

/** `requestContext.time`'s format: 12/Mar/2020:19:03:58 +0000. */
const requestTime = (date: Date): string => {
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${day}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${date.toISOString().slice(11, 19)} +0000`;
};

/** Builds the payload 2.0 event: duplicate headers and query parameters joined with commas, cookies apart. */
export const toHttpApiEvent = (request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 => {
  const now = new Date();
  const target = request.url ?? '/';
  const queryAt = target.indexOf('?');
  const rawPath = queryAt === -1 ? target : target.slice(0, queryAt);
  const rawQueryString = queryAt === -1 ? '' : target.slice(queryAt + 1);

  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, values = []] of Object.entries(request.headersDistinct)) {
    if (name === 'cookie') cookies.push(...values.flatMap((value) => value.split(/;\s*/)).filter(Boolean));
    else headers[name] = values.join(',');
  }
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = Object.hasOwn(query, name) ? `${query[name]},${value}` : value;
  }

  const domainName = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const text = TEXT_BODY.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: ACCOUNT_ID,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: request.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: body.toString(text ? 'utf8' : 'base64') }),
    isBase64Encoded: body.length > 0 && !text,
  };
};

/** A result without `statusCode` is a 200 with the result as its JSON body (payload 2.0's inference). */
const toResponse = (result: unknown): APIGatewayProxyStructuredResultV2 =>
  typeof result === 'object' && result !== null && 'statusCode' in result
    ? (result as APIGatewayProxyStructuredResultV2)
    : {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: typeof result === 'string' ? result : JSON.stringify(result),
      };

const send = (response: ServerResponse, result: APIGatewayProxyStructuredResultV2): void => {
  response.statusCode = result.statusCode ?? 200;
  for (const [name, value] of Object.entries(result.headers ?? {})) response.setHeader(name, String(value));
  if (result.cookies?.length) response.setHeader('set-cookie', result.cookies);
  response.end(Buffer.from(result.body ?? '', result.isBase64Encoded ? 'base64' : 'utf8'));
};

// API Gateway's own answers when the integration fails or the payload is too large.
const gatewayError = (statusCode: number, message: string): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ message }),
});

const readBody = async (request: IncomingMessage): Promise<Buffer | undefined> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
};

export const startLocalGateway = async (options: LocalGatewayOptions): Promise<LocalGateway> => {
  const { handler, host = '127.0.0.1', port = 0, timeoutMs, functionName = 'local-http' } = options;

  const serve = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = Date.now();
    let result: APIGatewayProxyStructuredResultV2;
    try {
      const body = await readBody(request);
      if (body === undefined) {
        result = gatewayError(413, 'Request Entity Too Large');
      } else {
        const context = lambdaContext({ functionName, timeoutMs });
        result = toResponse(await handler(toHttpApiEvent(request, body), context));
      }
    } catch (error) {
      log(`handler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      result = gatewayError(500, 'Internal Server Error');
    }
    send(response, result);
    log(`${request.method} ${request.url} ${response.statusCode} ${Date.now() - started} ms`);
  };

  const server = createServer((request, response) => {
    serve(request, response).catch((error: unknown) => {
      log(`cannot answer ${request.method} ${request.url}: ${String(error)}`);
      response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
