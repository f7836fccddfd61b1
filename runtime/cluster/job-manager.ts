/**
 * The job manager: turns a submitted job into an execution plan with its settings (storage,
 * restore point, restart strategy, slots) and starts its run (job-master.ts), which runs the
 * attempts, checkpoints and failovers.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { validateParams, type AnyJobDefinition, type JobDefinition, type JsonValue } from '../graph/job-definition.ts';
import { checkpointConfig, createCheckpointStorage, type CheckpointConfig, type CheckpointStorageConfig } from '../checkpoint/config.ts';
import { debloatConfig, type DebloatConfig } from '../exchange/buffer-debloater.ts';
import { announceDefaultLocation, weirHome } from '../weir-home.ts';
import { RestartStrategy, type RestartStrategyConfig } from '../failover/restart-strategy.ts';
import { planExecution } from '../graph/execution-plan.ts';
import type { StreamGraph } from '../graph/stream-graph.ts';
import { validateGraph } from '../graph/validate.ts';
import type { TaskSettings } from '../task/stream-task.ts';
import { heartbeatSettings, type HeartbeatSettings } from './heartbeat-monitor.ts';
import type { SlotProvider } from './slot-pool.ts';
import { JobHandle, type JobSetup, type SavepointRef } from './job-master.ts';

export interface ClusterOptions {
  /** Task manager worker threads; 0 runs one task manager on the calling thread. Default: one per core. */
  workers?: number;
  /** Records per exchange batch (default 4096). */
  batchSize?: number;
  /** Batches an input channel may hold (default 4). */
  credits?: number;
  /** Longest a partial batch waits before it is sent (default 50 ms). */
  bufferTimeoutMs?: number;
  /**
   * Shortest processing time between two watermarks of a source subtask (default 200 ms, Flink's
   * `pipeline.auto-watermark-interval`), unless the watermark moved by as much in event time (a
   * source catching up); 0 sends one after every poll that moved it. How soon a window fires after
   * its data arrived depends on it, by up to this much; which records are late can too, as with
   * any watermark timing. See runtime/task/source-driver.ts.
   */
  autoWatermarkIntervalMs?: number;
  /**
   * Buffer debloating (on by default): receivers size their senders' batches to about `targetMs`
   * (default 200 ms) of processing, so checkpoint barriers do not wait behind full buffers under
   * back-pressure. `false` keeps every batch at `batchSize`. See runtime/exchange/buffer-debloater.ts.
   */
  debloat?: Partial<DebloatConfig> | boolean;
  /** Where keyed state lives: 'lmdb' (default, on disk, larger than memory) or 'heap'. */
  stateBackend?: 'heap' | 'lmdb';
  /** Working files of task managers (default `work/` under the Weir home: `$WEIR_HOME` or `~/.weir`). */
  workDir?: string;
  /** Heap limit per worker thread, MB. */
  workerHeapMb?: number;
  /** Checkpointing; off unless `intervalMs` > 0 (savepoints work either way). */
  checkpoints?: Partial<CheckpointConfig>;
  /** What to do when a job fails; default: no restart without checkpoints, else fixed-delay 3 x 1 s. */
  restartStrategy?: RestartStrategyConfig;
  /** Where submission warnings go (e.g. stateful operators without a uid); default console.warn. */
  onWarning?: (message: string) => void;
  /** Task manager heartbeats: a task manager silent for `timeoutMs` is dead or stuck and the job fails over (default 1 s / 10 s). */
  heartbeat?: Partial<HeartbeatSettings>;
  /**
   * Warm spare task manager threads per job (default 1 when checkpointing is on and workers > 0,
   * else 0): a spare replaces a task manager that died, so a failover need not wait for a new
   * thread to start (about 2 s). Surviving task managers are kept across failovers either way.
   */
  spareTaskManagers?: number;
  /**
   * A standalone cluster's slots (slot-pool.ts): jobs run on its long-lived task managers instead of
   * threads of their own, and a job that needs more slots than are free is refused.
   */
  slots?: SlotProvider;
  /**
   * How task managers run and exchange data: 'worker-threads' (default: one thread each, batches
   * encoded and posted between them) or 'in-process' (all `workers` task managers on the calling
   * thread, linked in process: a multi-worker plan that a debugger can step through).
   */
  transport?: 'worker-threads' | 'in-process';
}



export interface SubmitOptions<P> {
  params?: P;
  /** Default parallelism of the job's operators (default: the number of workers, at least 1). */
  parallelism?: number;
  maxParallelism?: number;
  /** Start from this savepoint or checkpoint (also at another parallelism). */
  restoreFrom?: SavepointRef;
  /** Start even if the savepoint has state for operators (uids) the job no longer has; that state is dropped. */
  allowNonRestoredState?: boolean;
  /** This job's checkpointing, over the cluster's (`ClusterOptions.checkpoints`). */
  checkpoints?: Partial<CheckpointConfig>;
  /** This job's restart strategy, instead of the cluster's. */
  restartStrategy?: RestartStrategyConfig;
  /** The job's id (default: a new random UUID). */
  jobId?: string;
}

export class JobManager {
  readonly options: Required<Omit<ClusterOptions, 'workerHeapMb' | 'checkpoints' | 'restartStrategy' | 'heartbeat' | 'spareTaskManagers' | 'debloat' | 'slots' | 'transport'>> &
    Pick<ClusterOptions, 'workerHeapMb' | 'restartStrategy' | 'heartbeat' | 'spareTaskManagers' | 'slots' | 'transport'> & { checkpoints: CheckpointConfig; debloat: DebloatConfig };

  constructor(options: ClusterOptions = {}) {
    this.options = {
      workers: options.workers ?? os.availableParallelism(),
      batchSize: options.batchSize ?? 4096,
      credits: options.credits ?? 4,
      bufferTimeoutMs: options.bufferTimeoutMs ?? 50,
      autoWatermarkIntervalMs: options.autoWatermarkIntervalMs ?? 200,
      debloat: debloatConfig(options.debloat),
      stateBackend: options.stateBackend ?? 'lmdb',
      workDir: options.workDir ?? path.join(weirHome(), 'work'),
      workerHeapMb: options.workerHeapMb,
      checkpoints: checkpointConfig(options.checkpoints),
      restartStrategy: options.restartStrategy,
      onWarning: options.onWarning ?? ((m) => console.warn(`weir: warning: ${m}`)),
      heartbeat: options.heartbeat,
      spareTaskManagers: options.spareTaskManagers,
      slots: options.slots,
      transport: options.transport,
    };
    if (options.workDir === undefined) announceDefaultLocation('task managers\' working files', this.options.workDir, 'ClusterOptions.workDir');
    if (this.options.checkpoints.intervalMs > 0 && options.checkpoints?.storage === undefined && this.options.checkpoints.storage.kind === 'local') {
      announceDefaultLocation('checkpoints', this.options.checkpoints.storage.dir, 'checkpoints.storage');
    }
  }

  async submit<P>(job: JobDefinition<P>, options: SubmitOptions<P> = {}): Promise<JobHandle> {
    validateParams(options.params);
    const defaults = {
      parallelism: options.parallelism ?? Math.max(1, this.options.workers),
      maxParallelism: options.maxParallelism ?? 128,
    };
    // validateParams checked that the parameters are JSON data; the job's own type says which.
    const params = options.params as JsonValue | undefined;
    const graph = (job as unknown as AnyJobDefinition).buildGraph(params, defaults);
    const warnings = validateGraph(graph);
    for (const w of warnings) this.options.onWarning(w);
    const jobId = options.jobId ?? randomUUID();
    const reservation = this.options.slots?.reserve(jobId, slotsNeeded(graph));
    const workers = reservation?.workers ?? this.options.workers;
    const plan = planExecution(graph, Math.max(1, workers));
    const settings: TaskSettings = {
      batchSize: this.options.batchSize,
      credits: this.options.credits,
      bufferTimeoutMs: this.options.bufferTimeoutMs,
      autoWatermarkIntervalMs: this.options.autoWatermarkIntervalMs,
      debloat: this.options.debloat,
    };
    const checkpoint = options.checkpoints ? checkpointConfig({ ...this.options.checkpoints, ...options.checkpoints }) : this.options.checkpoints;
    const checkpointing = checkpoint.intervalMs > 0;
    const storage = createCheckpointStorage(checkpoint.storage, jobId, checkpoint.retained);
    let initialRestore: JobSetup['initialRestore'];
    let restoreStorage: CheckpointStorageConfig | undefined;
    try {
      if (options.restoreFrom) {
        const from = options.restoreFrom;
        restoreStorage = savepointRoot(from, checkpoint.storage);
        const completed = await createCheckpointStorage(restoreStorage ?? checkpoint.storage, from.jobId, checkpoint.retained).readCompleted(from.checkpointId, { scope: from.scope });
        initialRestore = { completed, jobId: from.jobId };
      }
    } catch (e) {
      reservation?.release();
      throw e;
    }
    const handle = new JobHandle({
      jobId,
      graph,
      plan,
      deployment: {
        jobId,
        moduleUrl: job.moduleUrl,
        params,
        defaults,
        plan,
        settings,
        stateBackend: this.options.stateBackend,
        workDir: path.join(this.options.workDir, jobId),
        checkpoint: checkpointing ? checkpoint : undefined,
        checkpointStorage: checkpoint.storage,
        ...(restoreStorage ? { restoreStorage } : {}),
      },
      storage,
      checkpoint,
      checkpointing,
      workers,
      workerHeapMb: this.options.workerHeapMb,
      heartbeat: heartbeatSettings(this.options.heartbeat),
      spareTaskManagers: this.options.spareTaskManagers ?? (checkpointing && workers > 0 && this.options.transport !== 'in-process' ? 1 : 0),
      restartStrategy: new RestartStrategy(options.restartStrategy ?? this.options.restartStrategy ?? (checkpointing ? { kind: 'fixed-delay', attempts: 3, delayMs: 1000 } : { kind: 'none' })),
      initialRestore,
      allowNonRestoredState: options.allowNonRestoredState ?? false,
      reservation,
      inProcess: this.options.transport === 'in-process',
    });
    try {
      await handle.start();
    } catch (e) {
      reservation?.release();
      throw e;
    }
    return handle;
  }
}

/** Slots a job takes on a standalone cluster: its highest operator parallelism (every subtask index shares a slot, as in Flink). */
export function slotsNeeded(graph: StreamGraph): number {
  return Math.max(1, ...graph.nodes.map((n) => graph.parallelismOf(n)));
}

/**
 * A local savepoint copied away from the job's checkpoint storage (`<root>/<jobId>/savepoints/sp-<id>`)
 * is read from its own root; undefined when it is where the storage keeps it.
 */
function savepointRoot(from: SavepointRef, storage: CheckpointStorageConfig): CheckpointStorageConfig | undefined {
  if (storage.kind !== 'local' || from.scope !== 'savepoint' || !path.isAbsolute(from.location)) return undefined;
  const root = path.resolve(from.location, '..', '..', '..');
  return root === path.resolve(storage.dir) ? undefined : { kind: 'local', dir: root };
}
