#!/usr/bin/env node
// Runs Reef's TypeScript sources directly (tsx), so a checkout works after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// `reef … | head` closes our stdout early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
