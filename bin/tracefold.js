#!/usr/bin/env node
// Entry point of the `tracefold` command: runs the TypeScript sources through tsx so that
// `npx tracefold` works from a checkout without a build step.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
await import(path.join(here, '..', 'src', 'cli', 'main.ts'));
