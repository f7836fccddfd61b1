/**
 * The connector registry: builds sources, sinks and lookup tables from plain configuration, for the
 * CLI and YAML pipelines. Options are checked against each connector's declared options first, so an
 * unknown type, an unknown option or a missing one is a ConfigError that lists the valid ones; the
 * connector's code is imported only then (naming a connector loads nothing else).
 *
 *     const source = await createSource({ type: 'lake', path: '/data/orders', mode: 'batch' });
 *     const sink = await createSink({ type: 'print' });
 */
import type { ConnectorConfig, ConnectorDefinition, RoleSpec } from './connector.ts';
import { ConfigError } from '../runtime/errors.ts';
import type { Source } from '../runtime/source/contract.ts';
import type { Sink } from '../runtime/api/sink.ts';
import type { LookupTable } from '../operators/join/lookup-table.ts';
import { clickhouseConnector } from './clickhouse/connector.ts';
import { collectConnector } from './collect/connector.ts';
import { datagenConnector } from './datagen/connector.ts';
import { duckdbConnector } from './duckdb/connector.ts';
import { kafkaConnector } from './kafka/connector.ts';
import { lakeConnector } from './lake/connector.ts';
import { mysqlConnector } from './mysql/connector.ts';
import { printConnector } from './print/connector.ts';
import { starrocksConnector } from './starrocks/connector.ts';

export type { ConnectorDefinition, ConnectorConfig, OptionSpec, RoleSpec } from './connector.ts';

/** Every connector, by type. New connectors add one line here. */
const CONNECTORS: readonly ConnectorDefinition[] = [datagenConnector, lakeConnector, printConnector, collectConnector, mysqlConnector, kafkaConnector, duckdbConnector, clickhouseConnector, starrocksConnector];

type Role = 'source' | 'sink' | 'lookup';
const ROLE_NAMES: Record<Role, string> = { source: 'source', sink: 'sink', lookup: 'lookup table' };

/** Connector types that can play `role`. */
export function connectorTypes(role: Role): string[] {
  return CONNECTORS.filter((c) => c[role]).map((c) => c.type);
}

export function connectorDefinition(type: string): ConnectorDefinition | undefined {
  return CONNECTORS.find((c) => c.type === type);
}

/** Checks `config` against the connector's options; returns the spec and the options without `type`. */
export function checkConfig<P>(role: Role, config: ConnectorConfig): { spec: RoleSpec<P>; options: ConnectorConfig } {
  const type = config.type;
  const valid = connectorTypes(role);
  if (typeof type !== 'string' || type.length === 0) {
    throw new ConfigError(`${ROLE_NAMES[role]}.type`, `is missing; valid types: ${valid.join(', ')}`);
  }
  const spec = connectorDefinition(type)?.[role] as RoleSpec<P> | undefined;
  if (!spec) throw new ConfigError(`${ROLE_NAMES[role]}.type`, `'${type}' is not a ${ROLE_NAMES[role]} connector; valid types: ${valid.join(', ')}`);
  const { type: _, ...options } = config;
  const names = Object.keys(spec.options);
  const unknown = Object.keys(options).filter((k) => !names.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(`${type} ${ROLE_NAMES[role]}`, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; valid options: ${names.join(', ')}`);
  }
  const missing = names.filter((n) => spec.options[n]!.required && options[n] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(
      `${type} ${ROLE_NAMES[role]}`,
      `missing required option${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}' (${spec.options[m]!.description})`).join(', ')}`,
    );
  }
  return { spec, options };
}

export async function createSource(config: ConnectorConfig): Promise<Source<unknown, any, any>> {
  const { spec, options } = checkConfig<Source<unknown, any, any>>('source', config);
  return spec.create(options);
}

export async function createSink(config: ConnectorConfig): Promise<Sink<unknown, any, any>> {
  const { spec, options } = checkConfig<Sink<unknown, any, any>>('sink', config);
  return spec.create(options);
}

export async function createLookupTable(config: ConnectorConfig): Promise<LookupTable<any, unknown>> {
  const { spec, options } = checkConfig<LookupTable<any, unknown>>('lookup', config);
  return spec.create(options);
}
