/**
 * A decided flow's invoices by position, for what comes after the decision (pivots, releases
 * from a validation circuit, the console's PDF). A large mixed flow is not read whole again:
 * each invoice asked for is read on its own from the file, as the reader read it at first
 * (same split, schema and mapping), so that writing its pivots holds one invoice at a time.
 * Any other flow is read whole once.
 */
import fs from 'node:fs';
import type { Settings } from '../config.js';
import { flowError, SystemFault } from '../errors/catalog.js';
import type { Channel } from '../ledger/stores.js';
import type { Invoice } from '../model/invoice.js';
import { openRegular } from '../util/openRegular.js';
import { readOpenedFlow, readUnit, splitLargeFlow, type ReadResult } from './read.js';

/** Up to this many invoices, a flow read in parts keeps its models from reading to delivery (about 4 KB each). */
const KEPT_UP_TO = 5000;

/**
 * Whether a flow's invoices, just read and decided, are kept for its delivery or let go and
 * read again one at a time (`flowInvoices`): only a large mixed flow of many invoices is read
 * twice, so that its memory stays bounded while smaller flows are not slowed.
 */
export const keepsInvoices = (read: Pick<ReadResult, 'inUnits' | 'invoices'>): boolean => !read.inUnits || read.invoices.length <= KEPT_UP_TO;

export interface FlowInvoices {
  /** The invoice at this position (1-based), undefined when the flow has none there. */
  at(position: number): Invoice | undefined;
  /** Closes the file a large flow is read from. */
  close(): void;
}

/** Opens a flow's invoices for reading by position. */
export function flowInvoices(file: string, settings: Settings, channel: Channel): FlowInvoices {
  const opened = openRegular(file);
  if (!opened.ok) return { at: () => undefined, close: () => undefined };
  const large = splitLargeFlow(file, opened.fd, opened.size, settings, 'held');
  if (large) {
    return {
      at(position) {
        const unit = large.split.units[position - 1];
        if (!unit) return undefined;
        const read = readUnit(large, position - 1, settings);
        // It read once already: it no longer does only if the file changed since.
        if (!read.invoice) throw new SystemFault(flowError('SYS_SOURCE_CHANGED', { file, what: `invoice ${position}, bytes ${unit.start} to ${unit.end}` }));
        return read.invoice;
      },
      close: () => fs.closeSync(opened.fd),
    };
  }
  try {
    const byPosition = new Map(readOpenedFlow(opened.fd, opened.size, settings, channel, undefined).invoices.map((m) => [m.position, m]));
    return { at: (position) => byPosition.get(position), close: () => undefined };
  } finally {
    fs.closeSync(opened.fd);
  }
}
