/** Benchmark devices in forked worker processes (bench/fleet-worker.ts), one group per process. */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchDevice, FromWorker, ToWorker, WorkerReport } from './fleet-worker.js';
import { sleep, track } from './support.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));

/** `devices` cut into `parts` slices of (nearly) equal size. */
export function splitEvenly<T>(devices: T[], parts: number): T[][] {
  const per = Math.ceil(devices.length / parts);
  return Array.from({ length: parts }, (_, i) => devices.slice(i * per, (i + 1) * per)).filter((g) => g.length);
}

export class Fleet {
  private readonly workers: ChildProcess[];
  /** Per group, settled when it reports all acked / all started (false if its process died first): they may come before anyone asks. */
  private readonly finished: Record<'acked' | 'started', Promise<boolean>>[];

  constructor(readonly groups: BenchDevice[][]) {
    // The open-files limit is inherited: the runner raised it to the hard limit for itself.
    this.workers = groups.map(() => track(fork(WORKER_SCRIPT, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })));
    const when = (w: ChildProcess, type: 'acked' | 'started') => this.next(w, type).then(() => true, () => false);
    this.finished = this.workers.map((w) => ({ acked: when(w, 'acked'), started: when(w, 'started') }));
  }

  get pids(): number[] {
    return this.workers.map((w) => w.pid!);
  }

  /**
   * Connects every group, group i to `urls[i % urls.length]`, `concurrency` CONNECTs in
   * flight per process; resolves once all are connected and subscribed.
   */
  async connect(urls: string[], options: { concurrency: number; schedule?: boolean }): Promise<number> {
    const results = await Promise.all(
      this.workers.map((worker, i) => {
        const reply = this.next(worker, 'connected');
        this.tell(worker, { type: 'connect', url: urls[i % urls.length], devices: this.groups[i], concurrency: options.concurrency, schedule: !!options.schedule });
        return reply;
      }),
    );
    const failures = results.flatMap((r) => r.failures);
    if (failures.length) throw new Error(`${failures.length}+ clients failed to connect, e.g. ${failures.slice(0, 3).join('; ')}`);
    return results.reduce((sum, r) => sum + r.count, 0);
  }

  /** Heartbeats per second across the whole fleet, shared by the groups in proportion to their size. */
  heartbeats(perSecond: number): void {
    const total = this.groups.reduce((sum, g) => sum + g.length, 0);
    this.workers.forEach((w, i) => this.tell(w, { type: 'heartbeats', perSecond: (perSecond * this.groups[i].length) / total }));
  }

  /** Resolves true once every device of these groups has acked its play (or started its item), false after `timeoutMs`. */
  async allDone(what: 'acked' | 'started', timeoutMs: number, groups = this.workers.map((_, i) => i)): Promise<boolean> {
    const done = Promise.all(groups.map((i) => this.finished[i][what])).then((all) => all.every(Boolean));
    return Promise.race([done, sleep(timeoutMs).then(() => false)]);
  }

  /** Forgets the plays these groups received and acked, for another round; resolves once they have. */
  async reset(groups = this.workers.map((_, i) => i)): Promise<void> {
    await Promise.all(
      groups.map(async (i) => {
        const reply = this.next(this.workers[i], 'reset');
        this.tell(this.workers[i], { type: 'reset' });
        await reply;
        this.finished[i].acked = this.next(this.workers[i], 'acked').then(() => true, () => false);
      }),
    );
  }

  /** One report per group, in group order. */
  async reports(groups = this.workers.map((_, i) => i)): Promise<WorkerReport[]> {
    return Promise.all(
      groups.map((i) => {
        const reply = this.next(this.workers[i], 'report');
        this.tell(this.workers[i], { type: 'report' });
        return reply.then((r) => r.report);
      }),
    );
  }

  /** SIGSTOP (frozen: connected, not reading), SIGCONT, or SIGKILL (every socket of the group dies at once). */
  signal(group: number, signal: 'SIGSTOP' | 'SIGCONT' | 'SIGKILL'): void {
    this.workers[group].kill(signal);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.exitCode !== null || w.signalCode !== null) return;
        w.kill('SIGCONT');
        if (w.connected) this.tell(w, { type: 'stop' });
        await Promise.race([new Promise((r) => w.once('exit', r)), sleep(5000)]);
        if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
      }),
    );
  }

  private tell(worker: ChildProcess, message: ToWorker): void {
    worker.send(message);
  }

  private next<T extends FromWorker['type']>(worker: ChildProcess, type: T): Promise<Extract<FromWorker, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.type !== type) return;
        cleanup();
        resolve(message as Extract<FromWorker, { type: T }>);
      };
      const onExit = (code: number | null) => {
        cleanup();
        reject(new Error(`fleet worker ${worker.pid} exited (${code}) while waiting for "${type}"`));
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
    });
  }
}
