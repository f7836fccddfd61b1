/**
 * Parquet files through parquet-wasm: Arrow columns in, Parquet bytes out, and back.
 */
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { ConfigError, LakeFormatError } from '../errors.ts';

export type ParquetCompression = 'zstd' | 'snappy' | 'gzip' | 'lz4' | 'none';

function compressionOf(name: string): pq.Compression {
  switch (name.toLowerCase()) {
    case 'zstd': return pq.Compression.ZSTD;
    case 'snappy': return pq.Compression.SNAPPY;
    case 'gzip': return pq.Compression.GZIP;
    case 'lz4': return pq.Compression.LZ4_RAW;
    case 'none': case 'uncompressed': return pq.Compression.UNCOMPRESSED;
    default: throw new ConfigError('file.compression', `'${name}' is not supported; use zstd, snappy, gzip, lz4 or none`);
  }
}

const propsCache = new Map<string, pq.WriterProperties>();

function writerProperties(compression: string): pq.WriterProperties {
  // WriterProperties are consumed by writeParquet, so build a fresh one each time
  void propsCache;
  return new pq.WriterPropertiesBuilder()
    .setCompression(compressionOf(compression))
    .setCreatedBy('weir lake connector')
    .setMaxRowGroupSize(256 * 1024)
    .build();
}

export function writeParquetBytes(fields: arrow.Field[], columns: arrow.Data[], compression = 'zstd'): Uint8Array {
  const length = columns[0]?.length ?? 0;
  const schema = new arrow.Schema(fields);
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length, nullCount: 0, children: columns });
  const batch = new arrow.RecordBatch(schema, struct);
  const table = new arrow.Table(schema, [batch]);
  const ipc = arrow.tableToIPC(table, 'stream');
  const wasmTable = pq.Table.fromIPCStream(ipc);
  return pq.writeParquet(wasmTable, writerProperties(compression));
}

export function readParquetBytes(bytes: Uint8Array, where: string, columns?: string[]): arrow.Table {
  try {
    const t = pq.readParquet(bytes, columns ? { columns } : undefined);
    return arrow.tableFromIPC(t.intoIPCStream());
  } catch (e) {
    throw new LakeFormatError(`cannot read Parquet file ${where}: ${(e as Error).message ?? String(e)}`, { cause: e });
  }
}
