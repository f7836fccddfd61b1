/**
 * Sink typing: a sink takes a stream of its element type or a narrower one, never a wider one
 * (checked by tsc: the @ts-expect-error lines must stay errors).
 */
import { describe, expect, it } from 'vitest';
import { StreamEnv } from '../../../runtime/api/environment.ts';
import { datagen } from '../../../connectors/datagen/index.ts';
import { collectSink } from '../../../connectors/collect/index.ts';
import { lakeSink } from '../../../connectors/lake/sink/index.ts';
import type { Change } from '../../../operators/changelog.ts';

type A = { a: number };
type AB = { a: number } | { b: string };

describe('sink types', () => {
  it('accepts a stream of the sink type or narrower, rejects a wider one', () => {
    const env = new StreamEnv({ parallelism: 1, maxParallelism: 128 });
    const as = env.fromSource(datagen<A>({ count: 1, generate: (i) => ({ a: i }) }));
    const abs = env.fromSource(datagen<AB>({ count: 1, generate: (i) => ({ a: i }) }));
    as.sinkTo(collectSink<A>('a'));
    as.sinkTo(collectSink<AB>('ab')); // a sink of A | B takes a stream of A
    abs.sinkTo(collectSink<AB>('ab2'));
    // @ts-expect-error a sink of A cannot take a stream of A | B
    abs.sinkTo(collectSink<A>('a2'));
    // the lake sink takes rows or changes of its row type
    as.sinkTo(lakeSink<A>({ path: '/tmp/unused' }));
    as.map((a): Change<A> => ({ kind: '+I', row: a })).sinkTo(lakeSink<A>({ path: '/tmp/unused' }));
    expect(env.graph.nodes.filter((n) => n.kind === 'sink').length).toBe(6);
  });
});
