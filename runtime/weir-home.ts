/**
 * Where Weir keeps files that the user did not place: task managers' working files and, unless
 * configured, checkpoints. `$WEIR_HOME`, else `~/.weir`, else (no home directory) `<tmp>/weir`;
 * never the current directory, so running a job from a source checkout does not write into it.
 * Each default location is said once per process on stderr, so files never appear unexplained.
 */
import os from 'node:os';
import path from 'node:path';

export function weirHome(): string {
  const configured = process.env.WEIR_HOME;
  if (configured) return path.resolve(configured);
  const home = os.homedir();
  return home ? path.join(home, '.weir') : path.join(os.tmpdir(), 'weir');
}

const announced = new Set<string>();

/** Logs once per process and location: "<what> in <dir> (default; set <setting> or WEIR_HOME to choose)". */
export function announceDefaultLocation(what: string, dir: string, setting: string): void {
  if (announced.has(dir)) return;
  announced.add(dir);
  process.stderr.write(`weir: ${what} in ${dir} (default; set ${setting} or WEIR_HOME to choose)\n`);
}
