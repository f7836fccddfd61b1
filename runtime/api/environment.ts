/** Where a job's graph is built: sources come from here, everything else hangs off them. */
import type { Source, SourceSplit } from '../source/contract.ts';
import { StreamGraph } from '../graph/stream-graph.ts';
import { DataStream, type OperatorOptions } from './data-stream.ts';
import type { WatermarkStrategy } from '../graph/watermark-strategy.ts';

export interface SourceOptions<T> extends OperatorOptions {
  watermarks?: WatermarkStrategy<T>;
}

export class StreamEnv {
  readonly graph = new StreamGraph();

  constructor(defaults: { parallelism: number; maxParallelism: number }) {
    this.graph.defaultParallelism = defaults.parallelism;
    this.graph.maxParallelism = defaults.maxParallelism;
  }

  /** Default parallelism of operators that do not set their own. */
  setParallelism(parallelism: number): this {
    this.graph.defaultParallelism = parallelism;
    return this;
  }

  /** Number of key groups: the upper bound for the parallelism of keyed operators, fixed for the life of the state. */
  setMaxParallelism(maxParallelism: number): this {
    this.graph.maxParallelism = maxParallelism;
    return this;
  }

  get parallelism(): number {
    return this.graph.defaultParallelism;
  }

  fromSource<T, Split extends SourceSplit, EnumState>(source: Source<T, Split, EnumState>, options: SourceOptions<T> = {}): DataStream<T> {
    const node = this.graph.addNode({
      kind: 'source',
      name: options.name ?? source.name,
      uid: options.uid,
      parallelism: options.parallelism,
      keyed: false,
      source: source as unknown as Source<unknown, SourceSplit, unknown>,
      watermarks: options.watermarks as WatermarkStrategy<unknown> | undefined,
      chainable: options.chain ?? true,
      slotGroup: options.slotSharingGroup,
    });
    return new DataStream<T>(this.graph, [{ node, tag: null }]);
  }
}
