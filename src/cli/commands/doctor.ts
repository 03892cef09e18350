import { ExitCode } from '../../errors.ts';
import { chooseAutoProvider, detectMachine, providerReadiness, type Probe } from '../../labs/detect.ts';
import { gatherNodeFacts, nodeBlocker } from '../../labs/local/node/node-support.ts';
import type { Command } from '../command.ts';
import { paint, table } from '../output.ts';

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check what each provider needs and whether it is there',
  usage: 'doctor [--json]',
  details:
    'Exits 0 when the provider that `auto` would pick can run, 3 when a prerequisite for it is missing.',
  options: {},
  async run({ values, out, env, signal }) {
    const facts = await detectMachine({ env, signal });
    // The local lab's node: can this machine run one (building what is missing), and if not, why.
    const nodeFacts = gatherNodeFacts(env);
    const nodeWhy = nodeBlocker({ ...nodeFacts, missing: [], runcRuns: nodeFacts.runcRuns ?? true });
    const node = {
      possible: nodeWhy === undefined,
      reason:
        nodeWhy ?? (nodeFacts.missing.length ? `yes, once built: ${nodeFacts.missing.join(', ')}` : 'yes'),
      missing: nodeFacts.missing,
    };
    const choice = chooseAutoProvider(facts);
    const providers = providerReadiness(facts);
    const chosen = providers.find((p) => p.provider === choice.provider);
    const code = chosen?.ready ? ExitCode.passed : ExitCode.missingPrerequisite;
    if (values.json) {
      out.result(
        JSON.stringify(
          {
            tools: [facts.node, facts.go, facts.goProxy, facts.docker, facts.kind, facts.helm, facts.kubectl],
            cache: facts.cache.map((c) => ({
              component: c.pin.name,
              version: c.pin.version,
              cached: c.complete,
              dir: c.dir,
              binaries: c.binaries.map((b) => ({ name: b.name, present: b.present, sizeBytes: b.sizeBytes })),
            })),
            providers,
            localNode: node,
            install: [facts.helm, facts.kind].some((t) => !t.ok)
              ? `vault-eso-lab build ${[facts.helm, facts.kind]
                  .filter((t) => !t.ok)
                  .map((t) => t.name)
                  .join(' ')}`
              : undefined,
            auto: choice,
          },
          null,
          2,
        ),
      );
      return code;
    }
    const mark = (ok: boolean) => (ok ? paint(out, 'green', 'ok') : paint(out, 'yellow', 'missing'));
    const row = (p: Probe, neededBy: string) => [p.name, mark(p.ok), p.detail, neededBy];
    out.result(
      table(
        [
          row(facts.node, 'all'),
          row(facts.go, 'local (build)'),
          row(facts.goProxy, 'local (build)'),
          row(facts.docker, 'kind'),
          row(facts.kind, 'kind'),
          row(facts.helm, 'kind'),
          row(facts.kubectl, 'hand use'),
        ],
        ['tool', 'status', 'detail', 'needed by'],
      ),
    );
    out.result('');
    out.result(
      table(
        facts.cache.map((c) => [
          c.pin.name,
          c.pin.version,
          c.complete ? paint(out, 'green', 'cached') : paint(out, 'yellow', 'not built'),
          c.binaries
            .map((b) => `${b.name}${b.present ? ` ${(b.sizeBytes / 1e6).toFixed(0)} MB` : ' -'}`)
            .join(', '),
        ]),
        ['component', 'version', 'cache', 'binaries'],
      ),
    );
    out.result(`cache: ${facts.cache[0]?.dir.replace(/\/[^/]+$/, '') ?? ''}`);
    out.result('');
    out.result(
      table(
        providers.map((p) => [
          p.provider,
          p.ready ? paint(out, 'green', 'ready') : paint(out, 'yellow', 'not ready'),
          p.missing.join(', ') || '-',
          p.needs,
        ]),
        ['provider', 'status', 'missing', 'needs'],
      ),
    );
    out.result('');
    const buildable = [facts.helm, facts.kind].filter((t) => !t.ok).map((t) => t.name);
    if (buildable.length && facts.go.ok)
      out.result(
        `kind provider: ${buildable.join(' and ')} can be built from source: vault-eso-lab build ${buildable.join(' ')}`,
      );
    out.result(
      `local lab node (pods): ${node.possible ? paint(out, 'green', node.reason) : paint(out, 'yellow', `no — ${node.reason}`)}`,
    );
    out.result(`auto would pick: ${choice.provider} (${choice.reason})`);
    return code;
  },
};
