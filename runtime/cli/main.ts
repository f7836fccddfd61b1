/**
 * `weir <command> [args]`: a small registry of top-level commands. A command is a name, a one-line
 * summary and a run function taking the remaining arguments; it returns the process exit code.
 * Commands are loaded lazily so one command's dependencies do not slow down the others.
 */
import { WeirError } from '../errors.ts';
import type { Command } from './command.ts';

const registry = new Map<string, () => Promise<Command>>();

export function registerCommand(name: string, load: () => Promise<Command>): void {
  registry.set(name, load);
}

registerCommand('run', async () => (await import('./run-command.ts')).runCommand);
registerCommand('cluster', async () => (await import('./cluster-command.ts')).clusterCommand);
registerCommand('list', async () => (await import('./job-commands.ts')).listCommand);
registerCommand('status', async () => (await import('./job-commands.ts')).statusCommand);
registerCommand('cancel', async () => (await import('./job-commands.ts')).cancelCommand);
registerCommand('savepoint', async () => (await import('./job-commands.ts')).savepointCommand);
registerCommand('stop', async () => (await import('./job-commands.ts')).stopCommand);
registerCommand('logs', async () => (await import('./job-commands.ts')).logsCommand);
registerCommand('pipeline', async () => (await import('./pipeline-command.ts')).pipelineCommand);
registerCommand('lake', async () => (await import('../../connectors/lake/cli.ts')).lakeCommand);

async function usage(): Promise<string> {
  const lines = ['usage: weir <command> [args]', '', 'commands:'];
  for (const [name, load] of registry) lines.push(`  ${name.padEnd(10)} ${(await load()).summary}`);
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = registry.get(name);
  if (!load) {
    console.error(`weir: unknown command '${name}'\n${await usage()}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (e) {
    if (e instanceof WeirError) {
      console.error(`weir ${name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

process.exitCode = await main(process.argv.slice(2));
