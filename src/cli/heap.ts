/**
 * How far the JavaScript heap may grow past what survived its last full collection before the
 * next one: 30 % rather than V8's own factor (up to 4× while collections are cheap). A hub's
 * live data rises and falls flow by flow (a large flow's invoices are let go once it is
 * decided), and with V8's factor the heap went on growing on dead objects between two full
 * collections (BENCHMARKS.md, session 8: S5 and S2 peaks about a quarter lower, S2 2-4 % slower).
 * Imported first by the command line: the setting is the process's, for every thread.
 */
import v8 from 'node:v8';

v8.setFlagsFromString('--heap-growing-percent=30');
