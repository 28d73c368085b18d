// One cold start, in a fresh Node process: import a bundle, then (when BENCH_EVENT is set) invoke its
// handler once, and report the timings to the parent over IPC. Plain JavaScript, so that the process
// does nothing before the import but start Node.
const bundle = process.argv[2];
const startCpu = process.cpuUsage();
const before = performance.now();
const { handler } = await import(bundle);
const ready = performance.now();
const cpu = process.cpuUsage(startCpu);
if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler`);

let invokeMs;
let result;
if (process.env.BENCH_EVENT) {
  const deadline = Date.now() + 30_000;
  const context = {
    awsRequestId: crypto.randomUUID(),
    functionName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  result = await handler(JSON.parse(process.env.BENCH_EVENT), context);
  invokeMs = performance.now() - ready;
}

process.send(
  {
    // performance.now() counts from the process's start, so `ready` includes Node's own startup.
    importMs: ready - before,
    readyMs: ready,
    importCpuMs: (cpu.user + cpu.system) / 1000,
    invokeMs,
    result,
  },
  // The handler's Temporal connection would keep the process alive.
  () => process.exit(0),
);
