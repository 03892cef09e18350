/** Small handlers standing in for the real operations in scenario and report tests. */
import { z } from 'zod';
import type { OperationHandler } from '../../../src/scenario/operation.ts';
import { duration, templated } from '../../../src/scenario/schema.ts';

export const noteHandler: OperationHandler<unknown, { text: string }> = {
  name: 'note',
  description: 'Record a note.',
  timeoutKind: 'default',
  schema: z.strictObject({ text: z.string() }),
  summarize: (a) => a.text,
  run: async () => {},
};

export const applyHandler: OperationHandler<unknown, { file: string }> = {
  name: 'apply',
  description: 'Apply a manifest.',
  timeoutKind: 'apply',
  schema: z.strictObject({ file: z.string() }),
  summarize: (a) => a.file,
  run: async () => {},
};

export const assertSecretHandler: OperationHandler<
  unknown,
  { namespace: string; name: string; within: number }
> = {
  name: 'assertSecret',
  description: 'Assert a Secret.',
  timeoutKind: 'assert',
  schema: z.strictObject({ namespace: z.string(), name: z.string(), within: templated(duration()) }),
  summarize: (a) => `${a.namespace}/${a.name} within ${a.within} ms`,
  run: async () => {},
};

export const fakeHandlers = [noteHandler, applyHandler, assertSecretHandler];
