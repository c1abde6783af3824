/**
 * Logging: one JSON line per event in var/log/factflow.log (rotated by size, a few files
 * kept), readable lines on the console. Loggers for one flow carry its id on every line.
 */
import path from 'node:path';
import winston from 'winston';

export type Logger = winston.Logger;

const consoleFormat = winston.format.printf(({ level, message, timestamp, flowId, invoice, ...rest }) => {
  const scope = [flowId, invoice].filter(Boolean).join(' ');
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${String(timestamp)} ${level.padEnd(5)} ${scope ? `[${String(scope)}] ` : ''}${String(message)}${extra}`;
});

export interface LogOptions {
  logDir: string;
  /** Console output: readable lines on stderr; off for commands whose stdout is data. */
  console: boolean;
  level?: string;
}

export function createLogger(opts: LogOptions): Logger {
  const transports: winston.transport[] = [
    new winston.transports.File({
      filename: path.join(opts.logDir, 'factflow.log'),
      maxsize: 20 * 1024 * 1024,
      maxFiles: 10,
      tailable: true,
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
