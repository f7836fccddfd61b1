/**
 * Orders looked up in a MySQL `rooms` table (integration tests): order i is for room `i % (rooms + missing)`,
 * so `missing` of the room ids have no row.
 */
import { collectSink, datagen, defineJob } from 'weir';
import { mysqlLookupTable } from 'weir/mysql';

export interface Room {
  id: number;
  name: string;
  tier: number;
}

export interface Enriched {
  order: number;
  room: number;
  name: string | null;
  tier: number | null;
}

export type LookupParams = {
  url: string;
  table: string;
  count: number;
  rooms: number;
  missing: number;
  mode: 'ordered' | 'unordered';
  kind: 'inner' | 'left';
  cache: 'none' | 'partial' | 'full';
  capacity: number;
  timeoutMs?: number;
  attempts?: number;
};

export const enriched = collectSink<Enriched>('enriched');

export default defineJob(import.meta.url, (env, p: LookupParams) => {
  const rooms = mysqlLookupTable<number, Room>({ url: p.url, table: p.table, keyColumns: ['id'], columns: ['id', 'name', 'tier'] });
  env
    .fromSource(datagen({ count: p.count, generate: (i) => ({ order: i, room: (i * 7919) % (p.rooms + p.missing) }) }))
    .lookupJoin(rooms, {
      key: (o) => o.room,
      join: (o, room) => ({ order: o.order, room: o.room, name: room?.name ?? null, tier: room?.tier ?? null }),
      kind: p.kind,
      mode: p.mode,
      capacity: p.capacity,
      timeoutMs: p.timeoutMs ?? 5000,
      retry: { attempts: p.attempts ?? 3, backoffMs: 20, maxBackoffMs: 100 },
      cache: p.cache === 'partial' ? { kind: 'partial', maxRows: 100_000, ttlMs: 600_000 } : p.cache === 'full' ? { kind: 'full', reloadIntervalMs: 60_000 } : { kind: 'none' },
      name: 'rooms-lookup',
    })
    .sinkTo(enriched);
});
