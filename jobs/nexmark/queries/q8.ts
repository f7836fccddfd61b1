import {
  type Collector,
  type KeyedContext,
  type KeyedProcessFunction,
  type KeyedRuntimeContext,
  mapState,
  type MapState,
  type OnTimerContext,
} from 'weir';
import { Q8_WINDOW_MS, type Q8Row } from '../queries.ts';
import type { QueryBuilder } from './common.ts';

const W = Q8_WINDOW_MS;

/**
 * A person registering (with their name) or opening an auction (name ''; no one is called that,
 * and Seen uses '' for "not registered" already): one shape for both, so one stream carries them
 * keyed by person and the exchange's batches stay columnar (see q4).
 */
interface PersonOrSeller {
  person: number;
  name: string;
}
/** Per window start: the person's name if they registered in it ('' if not), and whether they opened an auction in it. */
type Seen = [string, boolean];

/**
 * Per person id: which 10 s windows they registered in and opened an auction in; when the
 * watermark passes a window's end, one row if both happened (the SQL joins two DISTINCT window
 * aggregates, so any number of auctions gives one row). A window join keyed like this would emit a
 * row per (person, auction) pair, hence state and timers.
 */
class NewSellers implements KeyedProcessFunction<number, PersonOrSeller, Q8Row> {
  private windows!: MapState<number, Seen>;

  open(ctx: KeyedRuntimeContext): void {
    this.windows = ctx.getMapState(mapState<number, Seen>('windows'));
  }

  private note(ctx: KeyedContext<number>, name: string | null): void {
    const t = ctx.timestamp;
    const start = t - (t % W);
    const seen = this.windows.get(start);
    if (seen === undefined) {
      this.windows.put(start, name === null ? ['', true] : [name, false]);
      ctx.timerService.registerEventTimeTimer(start + W - 1);
    } else if (name === null ? !seen[1] : seen[0] !== name) {
      this.windows.put(start, name === null ? [seen[0], true] : [name, seen[1]]);
    }
  }

  processElement(r: PersonOrSeller, ctx: KeyedContext<number>): void {
    this.note(ctx, r.name === '' ? null : r.name);
  }

  onTimer(time: number, ctx: OnTimerContext<number>, out: Collector<Q8Row>): void {
    const start = time - W + 1;
    const seen = this.windows.get(start);
    if (seen === undefined) return;
    if (seen[0] !== '' && seen[1]) out.collect({ id: ctx.key, name: seen[0], starttime: start });
    this.windows.remove(start);
  }
}

/** q8 new users: people who opened an auction in the same 10 s tumbling window they registered in. */
export const q8: QueryBuilder<'q8'> = (input) =>
  input
    .source<PersonOrSeller>('people-auctions', (e) => {
      if (e.kind === 'person') return { person: e.id, name: e.name };
      if (e.kind === 'auction') return { person: e.seller, name: '' };
      return undefined;
    })
    .keyBy((r) => r.person)
    .process<Q8Row>(new NewSellers(), { name: 'q8-join', uid: 'q8-join' });
