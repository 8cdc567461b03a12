#!/usr/bin/env node
// hyperlab's command line. The CLI is TypeScript under src/node/; bundle.js bundles it
// (rebuilt when a source file is newer) so the same sources serve the browser, the tests
// and the command line.
import { pathToFileURL } from 'node:url';
import { ensureBundle } from './bundle.js';

const { cli } = await ensureBundle();
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
