import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export interface RootLoggerOptions {
  /** pino level name; TSSWARM_LOG_LEVEL overrides the default of 'info'. */
  level?: string;
  /** Where JSON lines go; stderr by default so stdout stays free for command output. */
  destination?: DestinationStream;
  /** Fields put on every line, e.g. the node ID once it is known. */
  base?: Record<string, unknown>;
}

/** The process's root logger. Components never call this: they get a child from their owner. */
export function createRootLogger(options: RootLoggerOptions = {}): Logger {
  const level = options.level ?? process.env.TSSWARM_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? pino.destination({ fd: 2, sync: false });
  return pino({ level, base: { pid: process.pid, ...options.base } }, destination);
}

/** One child logger per component, tagged so a component's lines can be filtered. */
export function componentLogger(parent: Logger, component: string, bindings: Record<string, unknown> = {}): Logger {
  return parent.child({ component, ...bindings });
}

/** A logger that drops everything, for pure-logic tests and tools that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
