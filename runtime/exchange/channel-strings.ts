/**
 * The strings a channel has already carried, per string field, at its two ends: the sender's
 * (`SentStrings`: each string's number) and the receiver's (`ReceivedStrings`: the strings by
 * number). With them the batch codec sends a string column whose values recur across batches
 * (channel names and URLs, cities, event types, room ids: thousands of distinct values in a stream
 * of millions) as numbers, plus the strings the receiver has not had yet: each distinct string is
 * encoded and decoded once per channel, not once per record, and the decoded records share one
 * string object per value (the records a job keeps in state hold no copies of their own).
 *
 * The two ends stay in step because a channel's batches are decoded in the order they were sent,
 * each exactly once (the input gate queues them per channel, and a channel lives for one attempt of
 * the job: a restarted job starts with empty dictionaries at both ends). A batch says how many
 * strings the receiver must hold before its own new ones (0: forget the column's strings first),
 * so a receiver out of step fails at once instead of decoding wrong strings.
 *
 * Bounded at both ends: a column holds at most MAX_ENTRIES strings and about MAX_CHARS characters;
 * a batch that would go past that starts the column again (base 0).
 */

/** Strings a column's dictionary holds at most (per channel, at each end). */
export const MAX_ENTRIES = 16_384;
/** Characters a column's dictionary holds before it starts again. */
export const MAX_CHARS = 1 << 20;

/** The sending end of one column. */
export class SentColumn {
  readonly ids = new Map<string, number>();
  chars = 0;
  /**
   * Batches to send without the dictionary after a trial that brought mostly new strings, about
   * as many as the batch before (a column of ids or free text): 8, doubling with each such trial
   * up to 1024; and how many of them are left. Such a column is tried again now and then (its
   * values may start to recur) but costs a hash per value only on those trials.
   */
  skip = 0;
  skipLeft = 0;
  /** The share of new strings in the last batch sent against the dictionary. */
  lastShare = 1;

  /** The trial brought mostly new strings: forget them and wait longer before the next. */
  trialFailed(): void {
    this.restart();
    this.skip = this.skip === 0 ? 8 : Math.min(this.skip * 2, 1024);
    this.skipLeft = this.skip;
  }

  /** Forgets every string: the next batch has base 0, so the receiver forgets them too. */
  restart(): void {
    this.ids.clear();
    this.chars = 0;
  }
}

/** The sending end of one channel: its string columns by field name ('' for batches of plain strings). */
export class SentStrings {
  private readonly columns = new Map<string, SentColumn>();

  column(field: string): SentColumn {
    let c = this.columns.get(field);
    if (c === undefined) {
      c = new SentColumn();
      this.columns.set(field, c);
    }
    return c;
  }

  /**
   * After a batch failed to encode (a bad record in a later field), its columns may hold strings
   * the receiver never got: every column starts again.
   */
  restart(): void {
    for (const c of this.columns.values()) c.restart();
  }
}

/** The receiving end of one channel: each string column's strings, by number. */
export class ReceivedStrings {
  private readonly columns = new Map<string, string[]>();

  /**
   * The column's strings after a batch's new ones: `added` continues the column at `base` (0:
   * the sender started the column again).
   */
  extend(field: string, base: number, added: readonly string[]): string[] {
    let c = this.columns.get(field);
    if (c === undefined) {
      c = [];
      this.columns.set(field, c);
    }
    if (base === 0) c.length = 0;
    else if (c.length !== base) {
      throw new Error(`string field '${field}': this channel's receiver holds ${c.length} strings, but the batch continues from ${base} (batches decoded out of order or twice)`);
    }
    for (let i = 0; i < added.length; i++) c.push(added[i]!);
    return c;
  }
}
