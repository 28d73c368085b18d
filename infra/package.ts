import { execFile } from 'node:child_process';
import { cp, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * `serverless package` without AWS: the CloudFormation template `serverless deploy` would deploy, made
 * with the osls CLI from serverless.yml and the zips `npm run build` wrote. Packaging needs no AWS call,
 * and this makes sure of it: the credentials are dummies and every HTTPS request goes to a closed
 * loopback port, so a command that tried to reach AWS would fail instead of quietly using the network.
 *
 * `npm run package [-- <serverless options>]` builds, then packages into .serverless/. Without options it
 * uses EXAMPLE_PARAMS; with options (`--stage prod`, `--param="temporalAddress=..."`) it uses those alone.
 */

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const OSLS = join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
const CLOSED_PORT_PROXY = 'http://127.0.0.1:9';
const FUNCTIONS = ['http', 'sqs', 'eventbridge', 'streams'];

/** The parameters `npm run package` checks the template with when it is given none. */
export const EXAMPLE_PARAMS: Readonly<Record<string, string>> = {
  temporalAddress: 'my-ns.a1b2c.tmprl.cloud:7233',
  temporalNamespace: 'my-ns.a1b2c',
  temporalSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:temporal-triggers-AbCdEf',
};

export interface PackageOptions {
  /**
   * The folder with serverless.yml, the project root by default. serverless always writes the template
   * into <serviceDir>/.serverless/, so packagings that run side by side each need their own (stageService).
   */
  readonly serviceDir?: string;
  readonly params?: Readonly<Record<string, string>>;
  /** Further serverless options, such as `--stage prod`. */
  readonly args?: readonly string[];
}

export interface Packaged {
  /** The path of cloudformation-template-update-stack.json. */
  readonly templateFile: string;
  readonly template: CloudFormationTemplate;
  /** What osls wrote on stderr: its progress, and warnings such as the alarms notifying nobody. */
  readonly stderr: string;
}

/** The parts of a CloudFormation template the checks read; values stay `unknown` until narrowed. */
export interface CloudFormationTemplate {
  readonly Parameters?: Record<string, { readonly Default?: unknown; readonly [key: string]: unknown }>;
  readonly Conditions?: Record<string, unknown>;
  readonly Resources: Record<string, CloudFormationResource>;
  readonly Outputs?: Record<string, unknown>;
}

export interface CloudFormationResource {
  readonly Type: string;
  readonly Condition?: string;
  readonly DependsOn?: string | string[];
  readonly Properties?: Record<string, unknown>;
}

const offlineEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    if (name.startsWith('AWS_')) delete env[name];
  }
  return {
    ...env,
    AWS_ACCESS_KEY_ID: 'AKIAOFFLINEPACKAGING',
    AWS_SECRET_ACCESS_KEY: 'offline-packaging-needs-no-credentials',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTPS_PROXY: CLOSED_PORT_PROXY,
    HTTP_PROXY: CLOSED_PORT_PROXY,
    NO_PROXY: '',
  };
};

/** Runs `serverless package` offline and reads the template it wrote. */
export const packageService = async ({
  serviceDir = ROOT,
  params = {},
  args = [],
}: PackageOptions = {}): Promise<Packaged> => {
  const paramArgs = Object.entries(params).map(([name, value]) => `--param=${name}=${value}`);
  const regionArgs = args.includes('--region') ? [] : ['--region', 'us-east-1'];
  let stderr: string;
  try {
    ({ stderr } = await run(process.execPath, [OSLS, 'package', ...regionArgs, ...paramArgs, ...args], {
      cwd: serviceDir,
      env: offlineEnv(),
      timeout: 120_000,
    }));
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`serverless package failed:\n${stdout}${stderr}`, { cause: error });
  }
  const templateFile = join(serviceDir, '.serverless', 'cloudformation-template-update-stack.json');
  return { templateFile, template: JSON.parse(await readFile(templateFile, 'utf8')), stderr };
};

/**
 * Copies what serverless.yml reads into dir: itself, infra/ with lib/http/cors.ts and
 * lib/http/openapiPath.ts (which infra/derive.ts imports), package.json (which makes those files ES modules), the built zips, and as dist/routes.json
 * `routes`: the build's dist/routes.json by default, another routes file, or none with `null`.
 */
export const stageService = async (
  dir: string,
  { routes = join(ROOT, 'dist', 'routes.json') }: { routes?: string | null } = {},
): Promise<string> => {
  const deriveImports = ['cors.ts', 'openapiPath.ts'].map((file) => join('lib', 'http', file));
  for (const path of ['serverless.yml', 'package.json', 'infra', ...deriveImports]) {
    await cp(join(ROOT, path), join(dir, path), { recursive: true });
  }
  for (const name of FUNCTIONS) {
    await cp(join(ROOT, 'dist', `${name}.zip`), join(dir, 'dist', `${name}.zip`));
  }
  if (routes !== null) await cp(routes, join(dir, 'dist', 'routes.json'));
  return dir;
};

if (import.meta.main) {
  const args = process.argv.slice(2);
  const started = performance.now();
  try {
    const { templateFile, template, stderr } = await packageService({
      params: args.length === 0 ? EXAMPLE_PARAMS : {},
      args,
    });
    process.stderr.write(stderr);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const size = ((await stat(templateFile)).size / 1024).toFixed(0);
    console.log(
      `${templateFile}: ${Object.keys(template.Resources).length} resources, ${size} KiB, packaged in ${seconds} s` +
        (args.length === 0 ? ' with the example parameters' : ''),
    );
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
