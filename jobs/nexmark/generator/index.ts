export {
  DEFAULT_NEXMARK_CONFIG,
  FIRST_AUCTION_ID,
  FIRST_CATEGORY_ID,
  FIRST_PERSON_ID,
  HOT_BATCH,
  ID_LEAD,
  NUM_CATEGORIES,
  adjustedEventNumber,
  interEventDelayUs,
  maxOutOfOrderMs,
  nexmarkConfig,
  timestampForEvent,
  totalProportion,
  type NexmarkConfig,
  type NexmarkConfigInput,
} from './config.ts';
export { NexmarkGenerator, eventAt, generate, type GeneratorOptions, type GeneratorRange } from './generator.ts';
export { kindOfEventId, lastBase0AuctionId, lastBase0PersonId } from './ids.ts';
