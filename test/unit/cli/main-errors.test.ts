/** The CLI's error messages go through the secret registry like every other output about a run. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Command } from '../../../src/cli/command.ts';
import { main } from '../../../src/cli/main.ts';
import { ComponentStartError, ExitCode, LabError } from '../../../src/errors.ts';
import { secrets } from '../../../src/secrets/secret-registry.ts';
import { capture } from '../../helpers/capture.ts';

/** A command as the lazily loaded table lists it. */
const entry = (c: Command) => ({ name: c.name, summary: c.summary, load: () => Promise.resolve(c) });

const SECRET = 'p4ssw0rd-from-the-run-91f2';

const failing = (error: unknown): Command => ({
  name: 'fail',
  summary: 'throw',
  usage: 'fail',
  options: {},
  run: () => Promise.reject(error),
});

describe('error messages on stderr', () => {
  secrets.add(SECRET);

  it.each([
    ['a plain Error', new Error(`Vault said: bad value ${SECRET}`)],
    ['a LabError with a hint', new LabError('E_X', `cannot use ${SECRET}`, { hint: `try ${SECRET} again` })],
    [
      'a component start failure with its log tail',
      new ComponentStartError('openbao', 'exited', {
        logTail: `root token: ${SECRET}`,
        logFile: '/tmp/x.log',
      }),
    ],
  ])('%s: the registered value is redacted', async (_what, error) => {
    const c = capture();
    const code = await main(['fail'], {
      out: c.out,
      signals: new EventEmitter(),
      commands: [entry(failing(error))],
    });
    expect(code).toBe(ExitCode.failed);
    expect(c.stderr()).not.toContain(SECRET);
    expect(c.stderr()).toContain('<redacted sha256:');
  });
});
