import { z } from 'zod';
import { sleep } from '../../time.ts';
import { durationMs, durationSchema, type Handler } from './common.ts';

const schema = z
  .object({ for: durationSchema.describe('How long to wait, e.g. "10s"') })
  .strict()
  .describe('Wait for a fixed duration');

export const sleepOperation: Handler<z.infer<typeof schema>> = {
  name: 'sleep',
  description: 'Wait for a fixed duration.',
  timeoutKind: 'default',
  schema,
  summarize: (a) => `sleep ${a.for}`,
  async run(ctx, a) {
    const ms = durationMs(a.for);
    await sleep(Math.min(ms, ctx.timeoutMs), ctx.signal);
  },
};
