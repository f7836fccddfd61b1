/**
 * Type tests of the lake read API (checked by `tsc --noEmit`, never run): rows read back are typed
 * by the caller's record type, and read options are checked.
 */
import { readRows, readTable, TableWriter, type FileStoreTable } from 'weir/lake';

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

interface Order { id: bigint; qty: number; note: string | null }

export async function lakeReadTypes(table: FileStoreTable): Promise<void> {
  const orders = await readRows<Order>(table, { snapshotId: 3, allLevels: true });
  type _rows = Expect<Equal<typeof orders, Order[]>>;
  const first = orders[0];
  if (first) {
    const id: bigint = first.id;
    // @ts-expect-error a BIGINT column comes back as bigint, not number
    const wrong: number = first.id;
    void id; void wrong;
  }
  const plain = await readRows(table);
  type _plain = Expect<Equal<typeof plain, Array<Record<string, unknown>>>>;
  // @ts-expect-error snapshotId is a number
  await readTable(table, { snapshotId: '3' });
  // @ts-expect-error unknown read option
  await readTable(table, { branch: 'b' });
}

export function lakeWriterTypes(table: FileStoreTable): void {
  // a dynamic-bucket table's writer assigns its share of the keys
  new TableWriter(table, { assigner: { numAssigners: 2, assignId: 1 } });
  // @ts-expect-error assignId is a number
  new TableWriter(table, { assigner: { numAssigners: 2, assignId: '1' } });
  // @ts-expect-error unknown assigner option
  new TableWriter(table, { assigner: { buckets: 2 } });
}
