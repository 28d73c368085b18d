import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { keepStderr, waitUntilReady } from './childServer.ts';
import { withProgress } from './progress.ts';
import { freePort, stopChild } from './temporalServer.ts';

/**
 * ElasticMQ, an SQS-compatible server, for the local stack: it keeps SQS's semantics where the local
 * stack relies on them (visibility timeouts, receive counts, redrive to a dead-letter queue, FIFO
 * groups returned in order and held while a message of theirs is in flight). moto's SQS hands out a
 * FIFO group's messages out of order once two of them were in flight together, hence ElasticMQ.
 *
 * It runs on the JVM, from Maven Central: `mvn dependency:copy-dependencies` fetches the server and
 * its libraries once into a cache outside the clone. Java and Maven are needed for it, and only for it.
 */

export const ELASTICMQ_VERSION = '1.7.1';
export const ELASTICMQ_CACHE =
  process.env.ELASTICMQ_CACHE ??
  join(
    process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
    'temporal-aws-triggers',
    `elasticmq-${ELASTICMQ_VERSION}`,
  );

const log = (message: string): void => {
  process.stderr.write(`[elasticmq] ${message}\n`);
};

const onPath = (name: string): boolean =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => existsSync(join(dir, name)));

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId>
  <artifactId>elasticmq-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.elasticmq</groupId>
      <artifactId>elasticmq-server_2.13</artifactId>
      <version>${ELASTICMQ_VERSION}</version>
    </dependency>
  </dependencies>
</project>
`;

/**
 * Runs a command and keeps its output, shown only when it fails: Maven 3.8 writes ANSI resets to the
 * terminal even with -q and -B.
 */
const quietly = (command: string, args: readonly string[]): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}):\n${output}`),
        );
    });
  });

/** Why ElasticMQ cannot run here, or undefined when it can. */
export const elasticMqMissing = (): string | undefined => {
  if (!onPath('java')) return 'no java on the PATH';
  if (!existsSync(join(ELASTICMQ_CACHE, 'lib')) && !onPath('mvn')) return 'no mvn on the PATH to fetch it';
  return undefined;
};

/** The folder of ElasticMQ's jars, fetched from Maven Central on first use. */
export const installElasticMq = async (): Promise<string> => {
  const lib = join(ELASTICMQ_CACHE, 'lib');
  const done = join(ELASTICMQ_CACHE, 'complete');
  if (existsSync(done)) return lib;
  const missing = elasticMqMissing();
  if (missing !== undefined) throw new Error(`ElasticMQ cannot run: ${missing}`);
  await mkdir(ELASTICMQ_CACHE, { recursive: true });
  await writeFile(join(ELASTICMQ_CACHE, 'pom.xml'), POM);
  log(`fetching ElasticMQ ${ELASTICMQ_VERSION} from Maven Central into ${ELASTICMQ_CACHE} (once)`);
  const fetchJars = quietly('mvn', [
    '-q',
    '-B',
    '-f',
    join(ELASTICMQ_CACHE, 'pom.xml'),
    'dependency:copy-dependencies',
    `-DoutputDirectory=${lib}`,
  ]);
  await withProgress('fetching ElasticMQ with mvn', fetchJars, log);
  if ((await readdir(lib)).length === 0) throw new Error(`mvn fetched no jars into ${lib}`);
  await writeFile(done, `${ELASTICMQ_VERSION}\n`);
  return lib;
};

export interface ElasticMq {
  readonly endpoint: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/** An ElasticMQ server on a free loopback port, with no queues: the caller creates them. */
export const startElasticMq = async (): Promise<ElasticMq> => {
  const lib = await installElasticMq();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dir = await mkdtemp(join(tmpdir(), 'elasticmq-'));
  const config = join(dir, 'elasticmq.conf');
  await writeFile(
    config,
    [
      'include classpath("application.conf")',
      `node-address { protocol = http, host = 127.0.0.1, port = ${port}, context-path = "" }`,
      `rest-sqs { enabled = true, bind-port = ${port}, bind-hostname = "127.0.0.1", sqs-limits = strict }`,
      'rest-stats { enabled = false }',
      '',
    ].join('\n'),
  );
  const child = spawn(
    'java',
    [`-Dconfig.file=${config}`, '-cp', join(lib, '*'), 'org.elasticmq.server.Main'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const stderr = keepStderr(child);
  const stop = async () => {
    await stopChild(child);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ready = () => fetch(`${endpoint}/?Action=ListQueues`).then((response) => response.ok);
    await waitUntilReady('ElasticMQ', child, ready, stderr, 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, child, stop };
};
