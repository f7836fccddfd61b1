/**
 * Worker threads that a worker thread uses but must not own.
 *
 * Node ends a thread's child threads when the thread itself is terminated, and a thread terminated
 * while it is inside a call of a native addon built with node-addon-api (lmdb-js: opening or
 * closing an environment or a database) aborts the whole process: the addon's wrapper throws while
 * the thread is stopping, and `napi_throw` fails fatally ("FATAL ERROR:
 * Error::ThrowAsJavaScriptException napi_throw"; kriszyp/lmdb-js#200, nodejs/node-addon-api#902).
 * Task managers are terminated on every kill, failover and cancel, and their LMDB writer threads
 * spend much of their time in lmdb-js. So a task manager's writer thread is started by the thread
 * that started the task manager (a sibling, not a child): the task manager asks over a port it was
 * given at start (`SiblingThreadStarter.port`, passed in its workerData as `siblingThreads`) and
 * talks to the new thread over a MessagePort of its own.
 *
 * A sibling thread must end itself when its port closes: that is how it learns that the thread that
 * asked for it has ended, terminated or not. It ends from its own JavaScript, never from inside a
 * native call.
 */
import { MessageChannel, Worker, isMainThread, workerData, type MessagePort } from 'node:worker_threads';

/** What a sibling thread finds in its workerData. */
export interface SiblingThreadData {
  /** The module the boot script imports. */
  entry: string;
  /** Its end of the channel to the thread that asked for it. */
  port: MessagePort;
}

interface StartRequest {
  boot: string;
  entry: string;
  port: MessagePort;
}

function startThread(request: StartRequest, onExit?: (w: Worker) => void): Worker {
  const data: SiblingThreadData = { entry: request.entry, port: request.port };
  const w = new Worker(new URL(request.boot), { workerData: data, transferList: [request.port] });
  w.unref();
  // The asking thread sees the port close and reports the thread's end itself.
  w.on('error', () => {});
  if (onExit) w.once('exit', () => onExit(w));
  return w;
}

/**
 * Starts threads for a worker thread it starts (a task manager): give `port` to that thread in its
 * workerData as `siblingThreads` (and in the transferList). The threads are started on this thread.
 */
export class SiblingThreadStarter {
  readonly port: MessagePort;
  private readonly own: MessagePort;
  private readonly running = new Set<Worker>();
  private readonly ended = new Set<() => void>();

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.own = port1;
    this.port = port2;
    port1.on('message', (r: StartRequest) => {
      this.running.add(startThread(r, (w) => this.exited(w)));
    });
    port1.unref();
  }

  private exited(w: Worker): void {
    this.running.delete(w);
    if (this.running.size > 0) return;
    for (const done of this.ended) done();
    this.ended.clear();
  }

  /** Stops taking requests; threads started so far go on until their ports close. */
  close(): void {
    this.own.close();
  }

  /**
   * Resolves true once every thread started so far has ended, or false after `timeoutMs`: a shutdown
   * waits for them, so that the process does not exit (terminating them) while they close their files.
   */
  whenEnded(timeoutMs: number): Promise<boolean> {
    if (this.running.size === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.ended.delete(finish);
        resolve(this.running.size === 0);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.ended.add(finish);
    });
  }
}

/**
 * Starts a thread running `entry` (through the boot script `boot`) beside this thread: on the thread
 * that started this one when it offered a starter, else here (the main thread, or a thread nobody
 * kills). Returns this thread's end of the new thread's port; messages posted to it before the thread
 * is up wait for it. The port closes when the thread ends.
 */
export function startSiblingThread(boot: URL, entry: string): MessagePort {
  const { port1, port2 } = new MessageChannel();
  const starter = isMainThread ? undefined : (workerData as { siblingThreads?: MessagePort } | null)?.siblingThreads;
  const request: StartRequest = { boot: boot.href, entry, port: port2 };
  if (starter) starter.postMessage(request, [port2]);
  else startThread(request);
  return port1;
}
