/** A top-level `weir` command: a one-line summary and a run function taking the remaining arguments; it returns the exit code. */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}
