/** What a running daemon tells `doctor` (apart from the daemon, so that reading it loads nothing of the daemon). */
import path from 'node:path';

/** The daemon's state beside var/watch.lock (read by `doctor`), removed when it exits. */
export interface DaemonState {
  pid: number;
  state: 'running' | 'stopping';
  /** Flows claimed and not finished by this daemon. */
  inProgress: number;
  updatedAt: string;
  /** The ledger file the daemon has open (doctor compares it with var/factflow.db). */
  ledger: { dev: number; ino: number };
  /** Why the daemon stopped claiming (SYS_LEDGER_UNAVAILABLE), if it did. */
  ledgerProblem?: string;
  /** Why the log files cannot be written, if they cannot. */
  logProblem?: string;
  /** Inbox entries in places no flow is taken from. */
  unexpected: string[];
}
export const stateFileOf = (varDir: string) => path.join(varDir, 'watch.state.json');
