/**
 * The live-room job's Kafka event parsing (jobs/live-room/inputs.ts): a valid value becomes the
 * event the generator would give, timed by the record's Kafka timestamp; anything else throws, which
 * sends the record to the dead-letter output. And the feeder's messages parse back to the generator's events.
 */
import { describe, expect, it } from 'vitest';
import { SeededRandom } from 'weir';
import type { KafkaRecord } from 'weir/kafka';
import { eventMessages } from '../../../jobs/live-room/feed.ts';
import { liveEvent, resolveData } from '../../../jobs/live-room/generator.ts';
import { parseLiveEvent } from '../../../jobs/live-room/inputs.ts';

const record = (value: string | null, timestamp = 1_000): KafkaRecord => ({
  topic: 't',
  partition: 0,
  offset: 7,
  timestamp,
  key: null,
  value: value === null ? null : Buffer.from(value),
  headers: {},
});

describe('parseLiveEvent', () => {
  it('takes the event from the value and its time from the record', () => {
    expect(parseLiveEvent(record('{"kind":"gift","id":1,"room":2,"user":3,"gift":"rose","amountCents":10,"ts":5}', 42))).toEqual({
      kind: 'gift', id: 1, room: 2, user: 3, gift: 'rose', amountCents: 10, ts: 42,
    });
    expect(parseLiveEvent(record('{"kind":"payment","id":1,"room":2,"user":3,"product":"effect","amountCents":300}'))).toEqual({
      kind: 'payment', id: 1, room: 2, user: 3, product: 'effect', amountCents: 300, ts: 1_000,
    });
  });

  it.each([
    [null, 'tombstone'],
    ['{"kind":"gift",', 'JSON'],
    ['[1]', "field 'id'"],
    ['{"kind":"gift","id":1,"room":2,"user":3,"gift":"rose"}', "field 'amountCents'"],
    ['{"kind":"gift","id":1,"room":-2,"user":3,"gift":"rose","amountCents":1}', "field 'room'"],
    ['{"kind":"gift","id":1,"room":2,"user":3,"amountCents":1}', "field 'kind'"],
    ['{"kind":"refund","id":1,"room":2,"user":3,"amountCents":1}', "field 'kind'"],
  ])('refuses %s', (value, why) => {
    expect(() => parseLiveEvent(record(value))).toThrow(why === 'JSON' ? SyntaxError : new RegExp(why));
  });

  it('reads back the events the feeder writes to Kafka', () => {
    const d = resolveData({ events: 200, seed: 3 });
    const random = new SeededRandom();
    const parsed = eventMessages(d).map((m) => parseLiveEvent(record(m.value, Number(m.timestamp))));
    expect(parsed).toEqual(Array.from({ length: d.events }, (_, i) => liveEvent(i, random.reset(d.seed, i), d)));
  });
});
