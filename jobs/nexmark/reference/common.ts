import type { Auction, Bid, Event, Person } from '../model.ts';

export const bidsOf = (events: readonly Event[]): Bid[] => events.filter((e): e is Bid => e.kind === 'bid');
export const auctionsOf = (events: readonly Event[]): Auction[] => events.filter((e): e is Auction => e.kind === 'auction');
export const peopleOf = (events: readonly Event[]): Person[] => events.filter((e): e is Person => e.kind === 'person');

/** Distinct values, in first-seen order. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
