/**
 * A task: one chain of operators at one subtask index, run as an actor. It owns the loop only;
 * what is processed comes from the input gate (or the source driver), what is emitted leaves
 * through record writers, and everything else arrives as mail (see mailbox.ts).
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { ClientChannel, ProcessingTimeService, SideWork } from '../../operators/operator.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import { keyGroupRangeFor, type KeyGroupRange } from '../../state/key-groups.ts';
import { OperatorStateStore, type KeyedStateHandle, type OperatorStateHandle } from '../../state/index.ts';
import { BarrierAligner } from '../checkpoint/barrier-aligner.ts';
import { endsJob, type SnapshotKind } from '../checkpoint/snapshot-kind.ts';
import type { TaskRestore, TaskSnapshot } from '../checkpoint/metadata.ts';
import { SubtaskCheckpointer } from '../checkpoint/subtask-checkpointer.ts';
import type { DebloatConfig } from '../exchange/buffer-debloater.ts';
import type { ChannelEvent } from '../exchange/channel-event.ts';
import type { DataPlane } from '../exchange/data-plane.ts';
import type { RecordWriter } from '../exchange/record-writer.ts';
import type { ExecutionPlan, PlannedTask } from '../graph/execution-plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import { WeirError } from '../errors.ts';
import { InputGate, type GateItem } from './input-gate.ts';
import { Mailbox, Signal, type Mail } from './mailbox.ts';
import { ChainNode, OperatorChain, asOperatorError, type ChainEnvironment } from './operator-chain.ts';
import { SourceDriver } from './source-driver.ts';
import type { EnumeratorEvent, ReaderEvent, Source, SourceSplit } from '../source/contract.ts';
import { WatermarkValve } from './watermark-valve.ts';
import { wireOutputs } from './output-wiring.ts';
import { collectTaskMetrics, type TaskMetrics, type TaskStatus } from './task-metrics.ts';

export interface TaskSettings {
  /** Records per exchange batch. */
  batchSize: number;
  /** Batches each input channel may hold unprocessed (credits granted to its sender). */
  credits: number;
  /** Longest a partial output batch waits before it is sent anyway. */
  bufferTimeoutMs: number;
  /** Buffer debloating of this task's inputs (absent: off). */
  debloat?: DebloatConfig;
  /** Shortest processing time between two watermarks of a source (source-driver.ts; absent: 0, after every poll). */
  autoWatermarkIntervalMs?: number;
}

export interface TaskServices {
  plane: DataPlane;
  client: ClientChannel;
  /** The task manager's side-work pool, offered to operators as `ctx.sideWork`. */
  sideWork: SideWork;
  createKeyedState(node: ChainNode, subtask: number, range: KeyGroupRange, restore: KeyedStateHandle[]): Promise<KeyedStateBackend>;
  /** Checkpoint protocol messages to the job manager. */
  onEndOfData(): void;
  onCheckpointAck(checkpointId: number, snapshot: TaskSnapshot): void;
  onCheckpointDeclined(checkpointId: number, reason: string): void;
  /** The task opened its operators and restored its state (recovery timing, failover history). */
  onOpened?(): void;
  /** For a source task: an event to the source's split enumerator on the job manager. */
  sendToEnumerator(event: EnumeratorEvent): void;
}

export interface TaskCheckpointing {
  /** Periodic or triggered checkpoints are on; tasks then wait for a final checkpoint at the end. */
  enabled: boolean;
  /** Exactly-once: align barriers. */
  aligned: boolean;
  /** Longest a task holds inputs aligning one checkpoint before it declines it; 0 or absent: no limit. */
  alignmentTimeoutMs?: number;
}

export { END_OF_INPUT_CHECKPOINT } from '../checkpoint/subtask-checkpointer.ts';

class CanceledError extends WeirError {
  constructor() {
    super('task canceled', { domain: 'internal' });
  }
}

export class StreamTask {
  readonly chain: OperatorChain;
  private readonly signal = new Signal();
  private readonly mailbox = new Mailbox(() => this.signal.notify());
  private readonly gate: InputGate | undefined;
  private readonly valve: WatermarkValve | undefined;
  private readonly writers: RecordWriter[];
  private readonly source: SourceDriver<unknown> | undefined;
  private readonly timeouts = new Set<NodeJS.Timeout>();
  /** Set at the end of input: processing-time callbacks no longer run (see finish). */
  private processingTimeQuiesced = false;
  private readonly operatorStates = new Map<number, OperatorStateStore>();
  private readonly aligner: BarrierAligner | undefined;
  private readonly checkpointer: SubtaskCheckpointer;
  /** Set once the input ended and everything downstream was told; the task then waits for the final checkpoint. */
  private draining = false;
  /** The final checkpoint or the stop-savepoint completed (and this task committed): the task ends. */
  private finalCheckpointDone = false;
  /**
   * A source task took its part of this stop-savepoint: it emits nothing more and waits for the
   * savepoint to complete (then it ends) or to be aborted (then it goes on).
   */
  private stoppedAtSavepoint: number | undefined;
  private readonly subtask: number;
  private readonly parallelism: number;
  private watermark = -Infinity;
  private lastFlush = 0;
  private backPressuredMs = 0;
  status: TaskStatus = 'created';
  private canceled = false;

  constructor(
    readonly task: PlannedTask,
    private readonly plan: ExecutionPlan,
    private readonly graph: StreamGraph,
    private readonly settings: TaskSettings,
    private readonly services: TaskServices,
    private readonly checkpointing: TaskCheckpointing = { enabled: false, aligned: true },
    private readonly restore?: TaskRestore,
  ) {
    const chainPlan = plan.chains[task.chainId]!;
    this.subtask = task.subtask;
    this.parallelism = chainPlan.parallelism;
    const nodes = chainPlan.nodeIds.map((id) => {
      const node = graph.node(id);
      return new ChainNode(node, graph.uidOf(node));
    });
    this.chain = new OperatorChain(nodes, task.subtask);

    // Edges inside the chain are calls, edges leaving it are record writers.
    this.writers = wireOutputs(nodes, chainPlan.nodeIds, task, plan, settings, services.plane, () => this.signal.notify());

    const head = nodes[0]!;
    if (head.node.kind === 'source') {
      this.source = new SourceDriver(head.node.source as Source<unknown, SourceSplit, unknown>, head.node.watermarks, head.mainOutput, head.node.name, settings.autoWatermarkIntervalMs);
    } else {
      const inputs = plan.channels
        .filter((c) => c.receiverTask === task.id)
        .sort((a, b) => a.edgeId - b.edgeId || a.senderSubtask - b.senderSubtask)
        .map((c) => ({ id: c.id, inputIndex: c.inputIndex }));
      const debloating = settings.debloat && { config: settings.debloat, maxBatchSize: settings.batchSize };
      this.gate = new InputGate(inputs, services.plane, settings.credits, () => this.signal.notify(), debloating);
      this.valve = new WatermarkValve(inputs.length);
      this.aligner = new BarrierAligner(inputs.length, checkpointing.aligned);
    }
    this.checkpointer = new SubtaskCheckpointer(
      {
        chain: this.chain,
        subtask: this.subtask,
        aligned: checkpointing.aligned,
        sourceReader: () => this.source,
        operatorStates: () => this.operatorStates,
        broadcast: (event) => this.broadcast(event),
        inputEnded: () => this.draining,
      },
      services,
    );
  }

  private readonly processingTime: ProcessingTimeService = {
    now: () => Date.now(),
    schedule: (time, callback) => {
      if (this.processingTimeQuiesced) return;
      const t = setTimeout(() => {
        this.timeouts.delete(t);
        this.mailbox.put({
          description: `processing-time timer at ${time}`,
          run: async () => {
            await callback();
            await this.chain.flushAll();
          },
        });
      }, Math.max(0, time - Date.now()));
      this.timeouts.add(t);
    },
  };

  private environment(): ChainEnvironment {
    return {
      subtaskIndex: this.subtask,
      parallelism: this.parallelism,
      maxParallelism: this.plan.maxParallelism,
      processingTime: this.processingTime,
      currentWatermark: () => this.watermark,
      operatorState: (cn) => this.operatorStateOf(cn),
      client: this.services.client,
      sideWork: this.services.sideWork,
    };
  }

  private operatorStateOf(cn: ChainNode): OperatorStateStore {
    let s = this.operatorStates.get(cn.node.id);
    if (!s) {
      const restored: OperatorStateHandle | undefined = this.restore?.nodes[cn.uid]?.operator;
      s = new OperatorStateStore(cn.uid, this.subtask, restored);
      this.operatorStates.set(cn.node.id, s);
    }
    return s;
  }

  /** Puts a mail in the task's mailbox (control calls from the task manager). */
  enqueue(mail: Mail): void {
    this.mailbox.put(mail);
  }

  /** An event from the source's split enumerator (splits assigned, no more splits), handled as a mail. */
  deliverToReader(event: ReaderEvent): void {
    const source = this.source;
    if (!source) return;
    this.enqueue({
      description: `source event ${event.type}`,
      run: () => {
        try {
          source.handle(event);
        } catch (e) {
          throw asOperatorError(e, this.chain.head, this.subtask, `handling ${event.type}`);
        }
      },
    });
  }

  cancel(): void {
    this.canceled = true;
    this.signal.notify();
  }

  get isSource(): boolean {
    return this.source !== undefined;
  }

  private resolveStopped!: () => void;
  /** Resolves when `run` has returned (operators closed, state disposed). */
  readonly stopped = new Promise<void>((r) => (this.resolveStopped = r));

  async run(): Promise<void> {
    this.status = 'running';
    try {
      await this.open();
      if (this.source) await this.runSource();
      else await this.runInput();
      this.status = 'finished';
    } catch (e) {
      this.status = this.canceled ? 'canceled' : 'failed';
      if (!(e instanceof CanceledError)) throw e;
    } finally {
      for (const t of this.timeouts) clearTimeout(t);
      this.mailbox.close();
      await this.chain.close().catch(() => {});
      await Promise.resolve(this.source?.close()).catch(() => {});
      this.resolveStopped();
    }
  }

  private async open(): Promise<void> {
    const env = this.environment();
    const range = keyGroupRangeFor(this.subtask, this.parallelism, this.plan.maxParallelism);
    for (const cn of this.chain.nodes) {
      if (cn.node.kind !== 'source') cn.operator = cn.node.createOperator!();
      if (cn.node.keyed) cn.keyedState = await this.services.createKeyedState(cn, this.subtask, range, this.restore?.nodes[cn.uid]?.keyed ?? []);
    }
    if (this.source) {
      const head = this.chain.head;
      try {
        // Splits come back from this source's own state (by uid): a source the checkpoint does not know
        // (added in a new version of the job) gets fresh splits from its enumerator's start position.
        this.source.open({
          subtaskIndex: this.subtask,
          parallelism: this.parallelism,
          operatorState: env.operatorState(head),
          sendToEnumerator: (event) => this.services.sendToEnumerator(event),
        });
      } catch (e) {
        throw asOperatorError(e, head, this.subtask, 'open');
      }
    }
    await this.chain.open(env);
    // Announced only now: the enumerator's assignments arrive as mails, handled by the running loop.
    this.source?.register();
    this.gate?.open();
    this.lastFlush = performance.now();
    this.services.onOpened?.();
  }

  private checkCanceled(): void {
    if (this.canceled) throw new CanceledError();
  }

  /** Runs waiting mails; true if any ran. */
  private async runMails(): Promise<boolean> {
    let ran = false;
    for (let mail = this.mailbox.take(); mail; mail = this.mailbox.take()) {
      this.checkCanceled();
      await mail.run();
      ran = true;
    }
    return ran;
  }

  private get backPressured(): boolean {
    for (const w of this.writers) if (w.hasBacklog) return true;
    return false;
  }

  /**
   * A source polls only when every output channel would send a batch at once (a credit left, nothing
   * held back), as Flink's sources wait for output buffers: records polled while a channel has no
   * credit would only wait in its backlog, alive across the scavenges of the young generation.
   */
  private get sourceOutputBlocked(): boolean {
    for (const w of this.writers) if (!w.canSendNow) return true;
    return false;
  }

  private async waitWhileBackPressured(): Promise<void> {
    const start = performance.now();
    while ((this.source ? this.sourceOutputBlocked : this.backPressured) && !this.canceled && this.mailbox.isEmpty) await this.signal.wait();
    this.backPressuredMs += performance.now() - start;
  }

  private flushOutputs(): void {
    for (const w of this.writers) w.flush();
    this.lastFlush = performance.now();
  }

  private flushIfStale(): void {
    if (performance.now() - this.lastFlush >= this.settings.bufferTimeoutMs) this.flushOutputs();
  }

  private broadcast(event: ChannelEvent): void {
    for (const w of this.writers) w.broadcastEvent(event);
  }

  private async advanceWatermark(watermark: number): Promise<void> {
    this.watermark = watermark;
    await this.chain.processWatermark(watermark);
    this.broadcast({ kind: 'watermark', time: watermark });
  }

  /**
   * The input ended: fire what event time still holds, let operators emit what they keep, and tell
   * downstream. With checkpointing on, the task then stays to take part in the final checkpoint
   * (two-phase-commit sinks commit their last transaction when it completes); without, sinks
   * commit now.
   */
  private async finish(): Promise<void> {
    if (this.watermark < Infinity) await this.advanceWatermark(Infinity);
    await this.quiesceProcessingTime();
    await this.chain.endInput();
    this.broadcast({ kind: 'end' });
    if (this.checkpointing.enabled) {
      this.draining = true;
      if (this.source) this.services.onEndOfData();
      return;
    }
    await this.checkpointer.commitAtEndOfInput();
    this.flushOutputs();
  }

  /**
   * As Flink's StreamOperatorWrapper does before finishing operators: processing-time callbacks
   * already due (their mails queued) run now, while their output can still reach downstream;
   * pending ones are cancelled and later registrations are ignored. Nothing runs after the end of
   * input is sent downstream, so nothing is emitted into channels that already ended (windows on
   * processing time fire what they hold in endInput instead).
   */
  private async quiesceProcessingTime(): Promise<void> {
    this.processingTimeQuiesced = true;
    for (const t of this.timeouts) clearTimeout(t);
    this.timeouts.clear();
    await this.runMails();
  }

  /** After the end of input: only mails and barriers, until the final checkpoint completed. */
  private async drain(): Promise<void> {
    this.flushOutputs();
    while (!this.finalCheckpointDone) {
      this.checkCanceled();
      if (await this.runMails()) continue;
      const item = this.gate?.poll();
      if (item) {
        if (item.kind === 'event') await this.handleEvent(item);
        continue;
      }
      await this.signal.wait();
    }
  }

  /** Starts checkpoint `id` at a source task (a mail from the coordinator). */
  triggerCheckpoint(id: number, kind: SnapshotKind = 'checkpoint'): void {
    this.enqueue({
      description: `trigger ${kind} ${id}`,
      run: async () => {
        // Stop-with-savepoint is synchronous: nothing is emitted after its barrier.
        if (endsJob(kind) && this.source) this.stoppedAtSavepoint = id;
        // With drain, the input ends first (final watermark, end of input downstream), then the barrier.
        if (kind === 'drain-savepoint' && this.source && !this.draining) await this.finish();
        await this.checkpointer.checkpoint(id, 0, kind);
      },
    });
  }

  /** `final`: the final checkpoint or the stop-savepoint; the task ends once it committed. */
  notifyCheckpointComplete(id: number, final: boolean): void {
    this.enqueue({
      description: `checkpoint ${id} complete`,
      run: async () => {
        await this.checkpointer.complete(id);
        if (final) this.finalCheckpointDone = true;
      },
    });
  }

  notifyCheckpointAborted(id: number): void {
    this.enqueue({
      description: `checkpoint ${id} aborted`,
      run: async () => {
        // Held inputs are released, and barriers of `id` still to come are ignored.
        if (this.aligner?.abort(id)) this.gate!.unblockAll();
        if (this.stoppedAtSavepoint === id) this.stoppedAtSavepoint = undefined;
        await this.checkpointer.abort(id);
      },
    });
  }

  /** Declines `checkpointId` if it is still aligning when the alignment timeout runs out. */
  private armAlignmentTimeout(checkpointId: number): void {
    const ms = this.checkpointing.alignmentTimeoutMs;
    if (!ms || ms <= 0) return;
    const t = setTimeout(() => {
      this.timeouts.delete(t);
      this.enqueue({
        description: `alignment timeout of checkpoint ${checkpointId}`,
        run: () => {
          const abandoned = this.aligner?.expire(checkpointId);
          if (!abandoned) return;
          this.gate!.unblockAll();
          const waiting = abandoned.missing.map((c) => this.describeInput(c)).join(', ');
          this.services.onCheckpointDeclined(
            checkpointId,
            `'${this.chain.head.node.name}' (subtask ${this.subtask}) could not align the barriers of checkpoint ${checkpointId} within ` +
              `alignmentTimeoutMs = ${ms} ms: still waiting for the barrier on ${waiting} (${abandoned.arrived.length} of ${this.gate!.channels.length} inputs were held); ` +
              'that input is back-pressured or its upstream is slow: raise checkpoints.alignmentTimeoutMs or find what slows it (metrics: backPressuredMs)',
          );
        },
      });
    }, ms);
    this.timeouts.add(t);
  }

  /** An input channel as a user reads it: the upstream operator and subtask. */
  private describeInput(channel: number): string {
    const planned = this.plan.channels.find((c) => c.id === this.gate!.channels[channel]!.spec.id);
    if (!planned) return `input channel ${channel}`;
    const sender = this.plan.tasks.find((t) => t.id === planned.senderTask);
    const chain = sender ? this.plan.chains[sender.chainId] : undefined;
    const name = chain ? this.graph.node(chain.nodeIds[0]!).name : `task ${planned.senderTask}`;
    return `input channel ${channel} (from '${name}' subtask ${planned.senderSubtask})`;
  }

  private async runSource(): Promise<void> {
    const source = this.source!;
    const head = this.chain.head;
    const batchSize = this.settings.batchSize;
    let idleTimer: NodeJS.Timeout | undefined;
    let watermarkTimer: NodeJS.Timeout | undefined;
    for (;;) {
      this.checkCanceled();
      if (this.finalCheckpointDone) return;
      if (await this.runMails()) continue;
      // Stopped at a savepoint's barrier, or (drain) its input ended: only mails until the task ends.
      if (this.stoppedAtSavepoint !== undefined || this.draining) {
        this.flushOutputs();
        await this.signal.wait();
        continue;
      }
      if (this.sourceOutputBlocked) {
        await this.waitWhileBackPressured();
        continue;
      }
      let status;
      try {
        status = source.poll(this.settings.debloat?.enabled ? this.sourceStep(batchSize) : batchSize);
      } catch (e) {
        throw asOperatorError(e, head, this.subtask);
      }
      await this.chain.flushNode(head);
      for (const w of this.writers) w.flushMostlyFull();
      const update = source.watermarkUpdate();
      if (update.watermark !== undefined) await this.advanceWatermark(update.watermark);
      if (update.idle !== undefined) this.broadcast({ kind: 'idle', idle: update.idle });
      if (status === 'end') {
        await this.finish();
        if (this.draining) await this.drain();
        return;
      }
      if (status === 'wait') {
        this.flushOutputs();
        const idleMs = source.idleTimeoutMs;
        if (idleMs !== undefined && idleTimer === undefined) {
          idleTimer = setTimeout(() => {
            idleTimer = undefined;
            this.signal.notify();
          }, idleMs);
        }
        // A watermark the interval held back goes out when it is due, even if nothing arrives.
        const dueMs = source.watermarkDueInMs();
        if (dueMs !== undefined && watermarkTimer === undefined) {
          watermarkTimer = setTimeout(() => {
            watermarkTimer = undefined;
            this.signal.notify();
          }, dueMs);
        }
        void source.reader.available().then(() => this.signal.notify());
        await this.signal.wait();
        continue;
      }
      this.flushIfStale();
      await yieldToEventLoop();
    }
  }

  /** Records a source polls at once: about one batch per output channel at the sizes its receivers asked for. */
  private sourceStep(batchSize: number): number {
    let step = batchSize;
    for (const w of this.writers) step = Math.min(step, w.stepRecords);
    return step;
  }

  private async runInput(): Promise<void> {
    const gate = this.gate!;
    let live = gate.channels.length;
    if (live === 0) {
      await this.finish();
      if (this.draining) await this.drain();
      return;
    }
    for (;;) {
      this.checkCanceled();
      if (this.finalCheckpointDone) return;
      if (await this.runMails()) continue;
      if (this.backPressured) {
        await this.waitWhileBackPressured();
        continue;
      }
      const item = gate.poll();
      if (!item) {
        this.flushOutputs();
        await this.signal.wait();
        continue;
      }
      if (item.kind === 'batch') {
        await this.chain.processBatch(this.chain.head, item.values, item.times, gate.inputIndexOf(item.channel), item.keyGroups, item.keyHashes);
        gate.processed(item.channel);
      } else if (await this.handleEvent(item)) {
        live--;
        if (live === 0) {
          await this.finish();
          if (this.draining) await this.drain();
          return;
        }
      }
      this.flushIfStale();
      await yieldToEventLoop();
    }
  }

  /** Returns true when the event ended its channel. */
  private async handleEvent(item: Extract<GateItem, { kind: 'event' }>): Promise<boolean> {
    const valve = this.valve!;
    const ev = item.event;
    switch (ev.kind) {
      case 'watermark': {
        const out = valve.onWatermark(item.channel, ev.time);
        if (out.idle !== undefined) this.broadcast({ kind: 'idle', idle: out.idle });
        if (out.watermark !== undefined) await this.advanceWatermark(out.watermark);
        return false;
      }
      case 'idle': {
        const out = valve.onIdle(item.channel, ev.idle);
        if (out.watermark !== undefined) await this.advanceWatermark(out.watermark);
        if (out.idle !== undefined) this.broadcast({ kind: 'idle', idle: out.idle });
        return false;
      }
      case 'end': {
        const out = valve.onEnd(item.channel);
        if (out.watermark !== undefined) await this.advanceWatermark(out.watermark);
        return true;
      }
      case 'barrier': {
        const aligning = this.aligner!.aligningCheckpoint;
        let action = this.aligner!.onBarrier(item.channel, ev.checkpointId, ev.snapshot);
        if (action.kind === 'abort') {
          this.gate!.unblockAll();
          action = action.then;
        }
        if (action.kind === 'block') {
          this.gate!.block(action.channel);
          if (aligning !== ev.checkpointId) this.armAlignmentTimeout(ev.checkpointId);
        } else if (action.kind === 'snapshot') {
          await this.checkpointer.checkpoint(action.checkpointId, action.alignmentMs, action.snapshot);
          this.gate!.unblockAll();
        }
        return false;
      }
    }
  }

  metrics(): TaskMetrics {
    return collectTaskMetrics(this.task, this.subtask, this.chain, this.writers, this.gate, {
      watermark: this.watermark,
      backPressuredMs: this.backPressuredMs,
      status: this.status,
    });
  }
}
