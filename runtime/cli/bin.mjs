#!/usr/bin/env node
// The `weir` command: load TypeScript through tsx, then run the command line in main.ts.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
