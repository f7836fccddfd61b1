/**
 * What a connector tells the registry: its type name and, for each role it plays (source, sink,
 * lookup table), the options it takes and how to build it from them. `create` imports the
 * connector's code lazily, so naming a connector loads nothing until a job uses it.
 */
import type { Source } from '../runtime/source/contract.ts';
import type { Sink } from '../runtime/api/sink.ts';
import type { LookupTable } from '../operators/join/lookup-table.ts';

export interface OptionSpec {
  required?: boolean;
  /** Shown in errors and `weir connectors`. */
  description: string;
}

export type ConnectorConfig = Record<string, unknown>;

export interface RoleSpec<Product> {
  options: Readonly<Record<string, OptionSpec>>;
  /** Builds it from checked options (every required option present, no unknown one). */
  create(options: ConnectorConfig): Promise<Product>;
}

export interface ConnectorDefinition {
  /** The `type` in configuration: `{ type: 'lake', ... }`. */
  readonly type: string;
  readonly description: string;
  readonly source?: RoleSpec<Source<unknown, any, any>>;
  readonly sink?: RoleSpec<Sink<unknown, any, any>>;
  readonly lookup?: RoleSpec<LookupTable<any, unknown>>;
}
