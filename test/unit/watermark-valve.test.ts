import { describe, expect, it } from 'vitest';
import { WatermarkValve } from '../../runtime/task/watermark-valve.ts';

describe('watermark valve', () => {
  it('is the minimum over channels and never goes back', () => {
    const v = new WatermarkValve(3);
    expect(v.onWatermark(0, 10)).toEqual({});
    expect(v.onWatermark(1, 5)).toEqual({});
    expect(v.onWatermark(2, 7)).toEqual({ watermark: 5 });
    expect(v.onWatermark(1, 20)).toEqual({ watermark: 7 });
    expect(v.onWatermark(2, 3)).toEqual({});
    expect(v.current).toBe(7);
  });

  it('an idle channel does not hold the watermark back; a watermark makes it active again', () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 100);
    expect(v.current).toBe(-Infinity);
    expect(v.onIdle(1, true)).toEqual({ watermark: 100 });
    expect(v.onWatermark(0, 150)).toEqual({ watermark: 150 });
    expect(v.onWatermark(1, 120)).toEqual({});
    expect(v.onWatermark(0, 200)).toEqual({});
    expect(v.onWatermark(1, 180)).toEqual({ watermark: 180 });
  });

  it('without idleness a silent channel holds everything back', () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 100);
    v.onWatermark(0, 1000);
    expect(v.current).toBe(-Infinity);
  });

  it('reports idle when all live channels are idle, and moves to the largest watermark', () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 50);
    v.onWatermark(1, 40);
    expect(v.onIdle(0, true)).toEqual({});
    expect(v.onIdle(1, true)).toEqual({ idle: true, watermark: 50 });
    expect(v.onWatermark(1, 60)).toEqual({ idle: false, watermark: 60 });
  });

  it('an ended channel holds nothing back', () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 10);
    v.onWatermark(1, Infinity);
    v.onEnd(1);
    expect(v.current).toBe(10);
    expect(v.onWatermark(0, 30)).toEqual({ watermark: 30 });
  });
});
