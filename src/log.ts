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

export function createLogger(opts: LogOptions): Logger {
  if (opts.forward) return winston.createLogger({ level: opts.level ?? process.env.FACTFLOW_LOG_LEVEL ?? 'info', transports: [new Forward(opts.forward)] });
  const transports: winston.transport[] = [
    new DailyRotateFile({
      dirname: opts.logDir,
      filename: 'factflow-%DATE%.log',
      datePattern: 'YYYY-MM-DD',
      maxSize: '20m',
      maxFiles: '30d',
      auditFile: path.join(opts.logDir, '.audit.json'),
      format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    }),
  ];
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
export function closeLogger(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    log.on('finish', () => resolve());
    log.end();
  });
}
