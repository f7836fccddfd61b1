/**
 * The pre-write topology of an OLAP sink with several writers: records are keyed by their primary
 * key, so all changes of a key reach one writer, in order, and each checkpoint's changes of a key
 * fold in one place (Paimon's and Flink's upsert sinks do the same). With one writer, or without a
 * primary key, the sink adds no operator (no shuffle to pay for).
 */
import type { Change } from '../../operators/changelog.ts';
import { asChange } from '../../operators/changelog.ts';
import { MapOperator } from '../../operators/map.ts';
import type { DataStream } from '../../runtime/api/data-stream.ts';
import type { SinkInput, SinkTopologyContext } from '../../runtime/api/sink.ts';
import { ConfigError } from '../../runtime/errors.ts';
import type { KeyPrimitive } from '../../state/key-groups.ts';
import { isSchemaChangeRecord } from './schema-change.ts';
import type { OlapInput } from './staged-writer.ts';

/** Whether the sink needs `keyByPrimaryKey` (several writers and a key). */
export function needsKeying(primaryKey: readonly string[] | undefined, writers: number): boolean {
  return (primaryKey?.length ?? 0) > 0 && writers > 1;
}

export function keyByPrimaryKey<T>(input: SinkInput<OlapInput<T>>, primaryKey: readonly string[], context: SinkTopologyContext, sink: string): DataStream<OlapInput<T>> {
  const opts = context.options;
  const base = opts.name ?? sink;
  const uid = opts.uid ?? base;
  const name = `${base}-key`;
  const passed = input.transform<OlapInput<T>>(name, () => new MapOperator<OlapInput<T>, OlapInput<T>>(name, (v) => v), {
    uid: `${uid}-key`,
    ...(opts.parallelism ? { parallelism: opts.parallelism } : {}),
    ...(opts.slotSharingGroup ? { slotSharingGroup: opts.slotSharingGroup } : {}),
  });
  const keys = [...primaryKey];
  return passed.keyBy((v): KeyPrimitive | KeyPrimitive[] => {
    if (isSchemaChangeRecord(v)) {
      throw new ConfigError(`${sink}.writers`, 'schema-change records need a single writer (they change the table for every row after them); set writers: 1');
    }
    const row = asChange(v as T | Change<T>).row as Record<string, unknown>;
    if (keys.length === 1) return keyValue(row[keys[0]!]);
    return keys.map((k) => keyValue(row[k]));
  });
}

function keyValue(v: unknown): KeyPrimitive {
  if (v instanceof Date) return v.getTime();
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v as KeyPrimitive;
  return String(v);
}
