/**
 * Type tests of the live-room job's parameters (jobs/live-room/live-room.ts): its sources and
 * sinks by configuration. Checked by `tsc --noEmit`, never run; each `@ts-expect-error` line must
 * fail to compile.
 */
import type { LiveRoomParams } from '../../jobs/live-room/live-room.ts';

export const servers: LiveRoomParams = {
  events: 0,
  eventSource: { type: 'kafka', brokers: ['k:9092'], topics: ['gifts', 'payments'], groupId: 'live-room', bounded: true },
  dimensions: { type: 'mysql', host: 'db', user: 'cdc', database: 'live_room', serverId: 5999, idleTimeoutMs: 5000 },
  badEvents: { type: 'kafka', brokers: ['k:9092'], topic: 'bad' },
  olap: { type: 'starrocks', feUrl: 'http://fe:8030', database: 'live_room', user: 'root', password: '' },
};
export const generated: LiveRoomParams = { events: 1000, eventSource: { type: 'generator', ratePerSecond: 100 }, dimensions: { type: 'generator' } };

// @ts-expect-error a Kafka event source needs its topics
export const noTopic: LiveRoomParams = { events: 0, eventSource: { type: 'kafka', brokers: ['k:9092'] } };
// @ts-expect-error the CDC source needs the database holding rooms and anchors
export const noDatabase: LiveRoomParams = { events: 0, dimensions: { type: 'mysql', host: 'db', user: 'cdc' } };
// @ts-expect-error no such dimension source
export const postgres: LiveRoomParams = { events: 0, dimensions: { type: 'postgres', host: 'db' } };
// @ts-expect-error bad events go to the console, a Kafka topic or nowhere
export const badToFile: LiveRoomParams = { events: 0, badEvents: { type: 'file', path: '/tmp/bad' } };
