/**
 * One error family for the whole tool. Every error carries a stable `code`, the process exit code it maps to,
 * an optional `hint` for the user, and the original error as `cause`. Messages are short first, detail after.
 */

export const ExitCode = {
  passed: 0,
  failed: 1,
  invalidInput: 2,
  missingPrerequisite: 3,
  /** Ctrl-C (SIGINT): 128 + 2. */
  interrupted: 130,
  /** The reader of stdout/stderr went away (`… | head -1`): 128 + SIGPIPE (13), as a shell reports it. */
  outputClosed: 141,
  /** SIGTERM: 128 + 15. */
  terminated: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface LabErrorOptions {
  cause?: unknown;
  hint?: string;
  exitCode?: ExitCode;
}

export class LabError extends Error {
  override readonly name: string = 'LabError';
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;

  constructor(code: string, message: string, options: LabErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

/** Bad command line: unknown command, unknown flag, missing argument. Exit 2. */
export class UsageError extends LabError {
  override readonly name = 'UsageError';
  constructor(message: string, options: Omit<LabErrorOptions, 'exitCode'> = {}) {
    super('E_USAGE', message, { ...options, exitCode: ExitCode.invalidInput });
  }
}

/** Where in a user's file something is wrong. */
export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

export interface InputIssue {
  location: SourceLocation;
  /** Dotted path of the offending field, e.g. `steps[1].try[0].assertSecret.within`. */
  field: string;
  message: string;
}

/** Invalid input file (scenario, manifest): names file, line and field. Exit 2. */
export class InvalidInputError extends LabError {
  override readonly name = 'InvalidInputError';
  readonly issues: readonly InputIssue[];
  constructor(issues: readonly InputIssue[], options: Omit<LabErrorOptions, 'exitCode'> = {}) {
    const first = issues[0];
    const head = first
      ? `${formatLocation(first.location)}: ${first.field ? `${first.field}: ` : ''}${first.message}`
      : 'invalid input';
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('E_INVALID_INPUT', head + more, { ...options, exitCode: ExitCode.invalidInput });
    this.issues = issues;
  }

  /** Every issue, one per line, `file:line:col: field: message`. */
  describe(): string {
    return this.issues
      .map((i) => `${formatLocation(i.location)}: ${i.field ? `${i.field}: ` : ''}${i.message}`)
      .join('\n');
  }
}

export function formatLocation(loc: SourceLocation): string {
  return `${loc.file}:${loc.line}${loc.column === undefined ? '' : `:${loc.column}`}`;
}

/** A tool, binary or service the chosen path needs is not there. Exit 3. */
export class PrerequisiteError extends LabError {
  override readonly name = 'PrerequisiteError';
  readonly missing: string;
  constructor(missing: string, message: string, options: Omit<LabErrorOptions, 'exitCode'> = {}) {
    super('E_PREREQUISITE', message, { ...options, exitCode: ExitCode.missingPrerequisite });
    this.missing = missing;
  }
}

/** A child process failed, timed out or was cancelled. */
export class CommandError extends LabError {
  override readonly name = 'CommandError';
  readonly command: string;
  readonly exitStatus: number | undefined;
  readonly signal: string | undefined;
  readonly timedOut: boolean;
  readonly isCanceled: boolean;
  readonly stderrTail: string;
  constructor(
    fields: {
      command: string;
      exitStatus: number | undefined;
      signal: string | undefined;
      timedOut: boolean;
      isCanceled: boolean;
      stderrTail: string;
    },
    options: LabErrorOptions = {},
  ) {
    const why = fields.isCanceled
      ? 'was cancelled'
      : fields.timedOut
        ? 'timed out'
        : fields.signal
          ? `was killed by ${fields.signal}`
          : `exited with code ${fields.exitStatus ?? '?'}`;
    const tail = fields.stderrTail ? `\n${fields.stderrTail}` : '';
    super(fields.isCanceled ? 'E_ABORTED' : 'E_COMMAND', `${fields.command} ${why}${tail}`, {
      ...options,
      exitCode: fields.isCanceled ? ExitCode.interrupted : (options.exitCode ?? ExitCode.failed),
    });
    Object.assign(this, fields);
    this.command = fields.command;
    this.exitStatus = fields.exitStatus;
    this.signal = fields.signal;
    this.timedOut = fields.timedOut;
    this.isCanceled = fields.isCanceled;
    this.stderrTail = fields.stderrTail;
  }
}

/** A wait ran out of time. Says what was awaited, for how long, and what was last seen. */
export class WaitTimeoutError extends LabError {
  override readonly name = 'WaitTimeoutError';
  readonly what: string;
  readonly timeoutMs: number;
  readonly lastSeen: string | undefined;
  constructor(what: string, timeoutMs: number, lastSeen?: string, options: LabErrorOptions = {}) {
    super(
      'E_TIMEOUT',
      `timed out after ${formatMs(timeoutMs)} waiting for ${what}${lastSeen ? ` (last seen: ${lastSeen})` : ''}`,
      options,
    );
    this.what = what;
    this.timeoutMs = timeoutMs;
    this.lastSeen = lastSeen;
  }
}

/** The run was interrupted (Ctrl-C, SIGTERM, a closed output or an aborted signal). Exit 130 (the CLI: 143 for SIGTERM, 141 for a closed output). */
export class AbortedError extends LabError {
  override readonly name = 'AbortedError';
  constructor(message = 'interrupted', options: Omit<LabErrorOptions, 'exitCode'> = {}) {
    super('E_ABORTED', message, { ...options, exitCode: ExitCode.interrupted });
  }
}

/** A lab component could not start: carries the tail of its log. */
export class ComponentStartError extends LabError {
  override readonly name = 'ComponentStartError';
  readonly component: string;
  readonly logFile: string | undefined;
  readonly logTail: string;
  constructor(
    component: string,
    message: string,
    fields: { logFile?: string; logTail?: string },
    options: LabErrorOptions = {},
  ) {
    super('E_COMPONENT_START', `${component}: ${message}`, options);
    this.component = component;
    this.logFile = fields.logFile;
    this.logTail = fields.logTail ?? '';
  }
}

/** A scenario assertion did not hold. Exit 1. */
export class AssertionFailedError extends LabError {
  override readonly name = 'AssertionFailedError';
  readonly diagnosis: string | undefined;
  readonly evidence: readonly string[];
  constructor(
    message: string,
    fields: { diagnosis?: string; evidence?: readonly string[] } = {},
    options: LabErrorOptions = {},
  ) {
    super('E_ASSERTION', message, options);
    this.diagnosis = fields.diagnosis;
    this.evidence = fields.evidence ?? [];
  }
}

export function isLabError(e: unknown): e is LabError {
  return e instanceof LabError;
}

/** Turn an abort reason (or an AbortSignal) into an AbortedError, keeping the reason as cause. */
export function abortError(signal: AbortSignal): AbortedError {
  const reason: unknown = signal.reason;
  if (reason instanceof AbortedError) return reason;
  return new AbortedError(reason instanceof Error ? reason.message : 'interrupted', { cause: reason });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
