import {
  type ClientHttp2Session,
  connect,
  constants,
  createSecureServer,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { status } from '@grpc/grpc-js';
import { startTcpProxy, type TcpProxy } from './tcpProxy.ts';

export interface GrpcProxyOptions {
  /** The Temporal frontend, `host:port`, reached over plaintext HTTP/2. */
  readonly target: string;
  /** Terminate TLS and require a client certificate that `ca` signed, as Temporal Cloud's mTLS does. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string };
}

export interface ProxiedCall {
  /** The gRPC method name, such as `StartWorkflowExecution`. */
  readonly method: string;
  readonly outcome: 'forwarded' | 'unauthenticated' | 'injected' | 'answer lost';
}

export interface GrpcProxy {
  /** Where clients connect: a TCP relay that can refuse connections or blackhole the open ones. */
  readonly address: string;
  readonly tcp: TcpProxy;
  /** Every call the proxy received, in order. */
  readonly calls: readonly ProxiedCall[];
  /** The common names of client certificates it accepted, one per TLS session. */
  readonly clientCertificates: readonly string[];
  /** TLS handshakes it rejected (an untrusted or missing client certificate). */
  readonly rejectedHandshakes: number;
  /** Accept only calls that carry `authorization: Bearer <key>`; undefined accepts every call. */
  requireApiKey(key: string | undefined): void;
  /** Answer the next `count` calls (of `method` only, if given) with gRPC status `code` itself. */
  inject(code: status, count: number, method?: string): void;
  /**
   * Forward the next `count` calls of `method` to the server, but drop its answer and reply
   * UNAVAILABLE: the call took effect, the client cannot know.
   */
  loseAnswers(count: number, method: string): void;
  /** Hold every call for `ms` before forwarding it (0 to stop). */
  delay(ms: number): void;
  /** Stop injecting faults and delays. */
  heal(): void;
  close(): Promise<void>;
}

const methodOf = (headers: IncomingHttpHeaders): string =>
  String(headers[':path'] ?? '').replace(/^.*\//, '');

/** Headers to pass on: none of HTTP/2's pseudo-headers but the ones named. */
const passOn = (headers: IncomingHttpHeaders, keep: readonly string[]): OutgoingHttpHeaders =>
  Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.startsWith(':') || keep.includes(name)),
  ) as OutgoingHttpHeaders;

/** A trailers-only gRPC response: how a server answers a call it refuses. */
const answer = (stream: ServerHttp2Stream, code: status, message: string): void => {
  if (stream.destroyed || stream.headersSent) return;
  stream.resume();
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': encodeURIComponent(message),
    },
    { endStream: true },
  );
};

/**
 * The front door the tests put before the Temporal dev server, which checks no credentials itself.
 * An HTTP/2 proxy (node:http2) that forwards gRPC streams, messages and trailers to the server, and
 * like Temporal Cloud refuses calls with UNAUTHENTICATED unless they carry the current API key, or
 * terminates TLS and verifies client certificates. It also injects faults: a gRPC status for the
 * next calls, a delay, and (through its TCP relay) refused connections or a black hole.
 */
export const startGrpcProxy = async (options: GrpcProxyOptions): Promise<GrpcProxy> => {
  const calls: ProxiedCall[] = [];
  const clientCertificates: string[] = [];
  let rejectedHandshakes = 0;
  let apiKey: string | undefined;
  let delayMs = 0;
  const faults: { code: status; count: number; method: string | undefined }[] = [];
  const losses = new Map<string, number>();
  const sessions = new Set<Http2Session>();

  let upstream: ClientHttp2Session | undefined;
  const upstreamSession = (): ClientHttp2Session => {
    if (upstream === undefined || upstream.closed || upstream.destroyed) {
      upstream = connect(`http://${options.target}`);
      upstream.on('error', () => {});
    }
    return upstream;
  };

  const forward = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, loseAnswer: boolean): void => {
    if (stream.destroyed) return;
    const request = upstreamSession().request(passOn(headers, [':method', ':path']));
    if (loseAnswer) {
      request.on('response', () => answer(stream, status.UNAVAILABLE, 'the proxy lost the answer'));
      request.resume();
      stream.pipe(request);
      return;
    }
    let trailers: IncomingHttpHeaders | undefined;
    request.on('trailers', (received) => {
      trailers = received;
    });
    request.on('response', (received, flags) => {
      if (stream.destroyed) return;
      const headersOut = passOn(received, [':status']);
      if (flags & constants.NGHTTP2_FLAG_END_STREAM) {
        stream.respond(headersOut, { endStream: true });
        return;
      }
      stream.respond(headersOut, { waitForTrailers: true });
      stream.on('wantTrailers', () => {
        const send = (last: IncomingHttpHeaders) => {
          if (!stream.destroyed) stream.sendTrailers(passOn(last, []));
        };
        if (trailers === undefined) request.once('trailers', send);
        else send(trailers);
      });
      request.pipe(stream);
    });
    request.on('error', () => {
      if (stream.headersSent) stream.close(constants.NGHTTP2_INTERNAL_ERROR);
      else answer(stream, status.UNAVAILABLE, 'the proxy lost the server');
    });
    stream.on('close', () => {
      if (!request.closed) request.close(constants.NGHTTP2_CANCEL);
    });
    stream.pipe(request);
  };

  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    const method = methodOf(headers);
    stream.on('error', () => {});
    if (apiKey !== undefined && headers.authorization !== `Bearer ${apiKey}`) {
      calls.push({ method, outcome: 'unauthenticated' });
      answer(stream, status.UNAUTHENTICATED, 'Request unauthorized');
      return;
    }
    const fault = faults.find((entry) => entry.count > 0 && (entry.method ?? method) === method);
    if (fault !== undefined) {
      fault.count -= 1;
      calls.push({ method, outcome: 'injected' });
      answer(stream, fault.code, `${status[fault.code]} injected by the test proxy`);
      return;
    }
    const lose = (losses.get(method) ?? 0) > 0;
    if (lose) losses.set(method, (losses.get(method) ?? 0) - 1);
    calls.push({ method, outcome: lose ? 'answer lost' : 'forwarded' });
    if (delayMs > 0) setTimeout(() => forward(stream, headers, lose), delayMs);
    else forward(stream, headers, lose);
  };

  let server: Http2Server;
  if (options.tls) {
    const secure = createSecureServer({ ...options.tls, requestCert: true, rejectUnauthorized: true });
    secure.on('secureConnection', (socket: TLSSocket) => {
      const subject = socket.getPeerCertificate().subject;
      clientCertificates.push(String(subject?.CN ?? ''));
    });
    secure.on('tlsClientError', () => {
      rejectedHandshakes += 1;
    });
    server = secure;
  } else {
    server = createServer();
  }
  server.on('stream', onStream);
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const bound = server.address();
  if (bound === null || typeof bound === 'string') throw new Error('the gRPC proxy did not bind');
  const tcp = await startTcpProxy(`127.0.0.1:${bound.port}`);

  return {
    address: tcp.address,
    tcp,
    calls,
    clientCertificates,
    get rejectedHandshakes() {
      return rejectedHandshakes;
    },
    requireApiKey(key) {
      apiKey = key;
    },
    inject(code, count, method) {
      faults.push({ code, count, method });
    },
    loseAnswers(count, method) {
      losses.set(method, count);
    },
    delay(ms) {
      delayMs = ms;
    },
    heal() {
      faults.length = 0;
      losses.clear();
      delayMs = 0;
    },
    async close() {
      await tcp.close();
      for (const session of sessions) session.destroy();
      upstream?.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
