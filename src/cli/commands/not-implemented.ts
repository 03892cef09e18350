import { LabError } from '../../errors.ts';
import type { Command } from '../command.ts';

/** Placeholder for commands that later work fills in; says so plainly and exits 1. */
export function notImplemented(name: string, summary: string, usage = name): Command {
  return {
    name,
    summary,
    usage,
    options: {},
    allowPositionals: true,
    run() {
      return Promise.reject(new LabError('E_NOT_IMPLEMENTED', `'${name}' is not implemented yet`));
    },
  };
}
