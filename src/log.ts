/**
 * Logging: one JSON line per event in var/log/factflow-YYYY-MM-DD.log (a new file every day
 * and past 20 MB, 30 days kept), readable lines on the console. Lines about a flow carry its
 * id (`flowId`), lines about an invoice its number (`invoice`).
 */
import path from 'node:path';
import winston from 'winston';
import DailyRotateFile from 'winston-daily-rotate-file';
import TransportStream from 'winston-transport';

export type Logger = winston.Logger;

const consoleFormat = winston.format.printf(({ level, message, timestamp, flowId, invoice, ...rest }) => {
  const scope = [flowId, invoice].filter(Boolean).join(' ');
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${String(timestamp)} ${level.padEnd(5)} ${scope ? `[${String(scope)}] ` : ''}${String(message)}${extra}`;
});

export interface LogOptions {
  logDir: string;
  /** In a worker thread: hand every entry to the main thread's logger instead of writing. */
  forward?: (entry: Record<string, unknown>) => void;
  /** Console output: readable lines on stderr; off for commands whose stdout is data. */
  console: boolean;
  level?: string;
}

/** Sends entries to another logger (a worker thread's entries go to the daemon's files). */
class Forward extends TransportStream {
  constructor(private readonly send: (entry: Record<string, unknown>) => void) {
    super();
  }
  override log(info: Record<string, unknown>, next: () => void): void {
    this.send({ ...info });
    next();
  }
}

/** How long a failed log file waits before it is opened again. */
const LOG_RETRY_MS = 5000;
/** winston's key for a formatted line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/** Whether the log files can be written, for the daemon's state and `doctor`. */
export interface LogHealth {
  /** The failure in force (its errno and message), absent while lines reach the file. */
  failing?: string;
  since?: string;
  /** Lines that could not be written since the failure began. */
  lost: number;
}
const health: LogHealth = { lost: 0 };
export const logHealth = (): LogHealth => ({ ...health });

/**
 * The daily-rotating file, made unable to take the process down: the rotating stream emits
 * `error` with no listener on ENOSPC, EISDIR, EACCES…, which would kill the daemon. Here a
 * failure is reported once on stderr (the one place left to say it), lines are counted as lost
 * while the file is unusable, and the file is opened again after LOG_RETRY_MS; the first line
 * written again says how many were lost.
 */
class ResilientFile extends TransportStream {
  private inner?: DailyRotateFile;
  private retryAt = 0;
  constructor(private readonly logDir: string) {
    super({ format: winston.format.combine(winston.format.timestamp(), winston.format.json()) });
  }
  private open(): DailyRotateFile | undefined {
    if (this.inner) return this.inner;
    if (Date.now() < this.retryAt) return undefined;
    try {
      const inner = new DailyRotateFile({
        dirname: this.logDir,
        filename: 'factflow-%DATE%.log',
        datePattern: 'YYYY-MM-DD',
        maxSize: '20m',
        maxFiles: '30d',
        auditFile: path.join(this.logDir, '.audit.json'),
      });
      const fail = (e: unknown) => this.fail(inner, e);
      inner.on('error', fail);
      (inner as unknown as { logStream?: NodeJS.EventEmitter }).logStream?.on('error', fail);
      this.inner = inner;
      return inner;
    } catch (e) {
      this.fail(undefined, e);
      return undefined;
    }
  }
  private fail(inner: DailyRotateFile | undefined, e: unknown): void {
    if (inner && inner !== this.inner) return; // a late error of a file already given up
    this.inner = undefined;
    this.retryAt = Date.now() + LOG_RETRY_MS;
    const err = e as NodeJS.ErrnoException;
    const what = `${err.code ?? 'error'}: ${err.message ?? String(e)}`;
    if (inner) {
      try {
        (inner as unknown as { logStream?: { destroy?: () => void } }).logStream?.destroy?.();
      } catch {
        // already broken
      }
    }
    if (!health.failing) {
      health.failing = what;
      health.since = new Date().toISOString();
      process.stderr.write(`${new Date().toISOString()} error cannot write the log files in ${this.logDir} (${what}); factflow goes on without them and retries every ${LOG_RETRY_MS / 1000} s${err.code === 'ENOSPC' ? ': free some space on that disk' : ''}\n`);
    }
  }
  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const inner = this.open();
    if (!inner) {
      if (health.failing) health.lost++;
      return next();
    }
    if (health.failing) {
      const note = { level: 'warn', message: `log writes resumed after a failure since ${health.since} (${health.failing}); ${health.lost} line(s) were lost`, timestamp: new Date().toISOString() };
      health.failing = undefined;
      health.since = undefined;
      health.lost = 0;
      process.stderr.write(`${note.timestamp} warn  ${note.message}\n`);
      inner.log!({ ...note, [MESSAGE]: JSON.stringify(note) } as never, () => undefined);
    }
    try {
      inner.log!(info as never, () => undefined);
    } catch (e) {
      this.fail(inner, e);
    }
    next();
  }
  /** Ends the file, resolving once its lines are written (or at once if there is none). */
  flush(): Promise<void> {
    const stream = (this.inner as unknown as { logStream?: NodeJS.WritableStream } | undefined)?.logStream;
    this.inner = undefined;
    if (!stream) return Promise.resolve();
    return new Promise((resolve) => {
      stream.once('error', () => resolve());
      stream.end(() => resolve());
    });
  }
}

export function createLogger(opts: LogOptions): Logger {
  if (opts.forward) return winston.createLogger({ level: opts.level ?? process.env.FACTFLOW_LOG_LEVEL ?? 'info', transports: [new Forward(opts.forward)] });
  const transports: winston.transport[] = [new ResilientFile(opts.logDir)];
  if (opts.console) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(winston.format.timestamp({ format: 'HH:mm:ss' }), consoleFormat),
      }),
    );
  }
  return winston.createLogger({ level: opts.level ?? process.env.FACTFLOW_LOG_LEVEL ?? 'info', transports });
}

/** Waits until every line is on disk (before a one-shot command exits). */
export async function closeLogger(log: Logger): Promise<void> {
  const files = log.transports.filter((t): t is ResilientFile => t instanceof ResilientFile);
  await new Promise<void>((resolve) => {
    log.on('finish', () => resolve());
    log.end();
  });
  await Promise.all(files.map((f) => f.flush()));
}
