import { z } from 'zod';
import { formatMs } from '../../errors.ts';
import { sleep } from '../../time.ts';
import { duration, templated, type Handler } from './common.ts';

const schema = z
  .object({ for: templated(duration()).describe('How long to wait, e.g. "10s"') })
  .strict()
  .describe('Wait for a fixed duration');

export const sleepOperation: Handler<z.infer<typeof schema>> = {
  name: 'sleep',
  description: 'Wait for a fixed duration.',
  timeoutKind: 'default',
  schema,
  summarize: (a) => `sleep ${formatMs(a.for)}`,
  async run(ctx, a) {
    await sleep(a.for, ctx.signal);
  },
};
