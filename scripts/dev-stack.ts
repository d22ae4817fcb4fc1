// `npm start`, stage two: the whole stack on embedded defaults, until Ctrl-C.
import { startStack } from './stack';
import { loadStackConfig, StackConfigError } from './stack-config';

const verbose = process.argv.includes('--verbose');
const log = (line: string) => {
  if (verbose || !line.startsWith('wrangler:')) console.log(`  ${line}`);
};

// Ctrl-C during start-up waits for start-up to finish, then stops everything in order.
let interrupted = false;
const interruptStartup = () => {
  interrupted = true;
};
process.on('SIGINT', interruptStartup);
process.on('SIGTERM', interruptStartup);

try {
  const cfg = loadStackConfig(process.env);
  console.log('TOD: starting…');
  const stack = await startStack(cfg, log);
  process.off('SIGINT', interruptStartup);
  process.off('SIGTERM', interruptStartup);
  console.log(
    [
      '',
      '  TOD is running',
      `  Portal:       ${stack.portalUrl}`,
      `  API health:   ${stack.portalUrl}/health/ready`,
      `  First admin:  ${stack.adminEmail}`,
      `  Password:     ${stack.adminPassword}   (you enrol your SRP login and Secret Key at first sign-in)`,
      `  Data:         ${stack.dataDir}`,
      ...(stack.demo
        ? [
            '',
            `  Demo fleet:   ${stack.demo.devices} simulated RouterOS devices, polled by collector ${stack.demo.collectorId}`,
            `                (a few are offline, slow, flaky or refuse the login, on purpose; TOD_DEMO=0 turns it off)`,
            `  Demo tenant:  Demo MSP, admin ${stack.demo.adminEmail}`,
            `  Password:     ${stack.demo.adminPassword}`,
            `  Secret Key:   ${stack.demo.secretKey}`,
          ]
        : []),
      '',
      '  Ctrl-C stops everything; the next `npm start` reuses the data.',
      '',
    ].join('\n'),
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nTOD: stopping…');
    await stack.stop();
    console.log('TOD: stopped');
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  if (interrupted) await shutdown();
} catch (err) {
  if (err instanceof StackConfigError) console.error(`TOD: ${err.message}`);
  else console.error(`TOD: ${(err as Error).message}`);
  process.exit(1);
}
