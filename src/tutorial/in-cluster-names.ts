/**
 * The tutorial's in-cluster names (`kubernetes.default.svc`, `hashicorp-vault.hashicorp-vault.svc.cluster.local`)
 * resolve only through the cluster's DNS, which pods use. On the local lab Vault and ESO are processes on this
 * machine. To show what resolving such a name from here gives without sending a DNS query off the machine, the
 * lookup runs in a fresh network namespace (`unshare -rn`: no interfaces up, no route), with the lab's own `vault`
 * CLI — the same Go resolver that Vault and ESO use. The walkthrough never lets Vault or ESO look these names up.
 */
import type { ActionBlock } from './model.ts';
import { commandOutput, shell } from './actions.ts';

export function lookupCommand(url: string): string {
  return `unshare -rn vault status -address=${url}`;
}

/** The action, and whether it showed a failed lookup (the output says which). */
export function unresolvableName(url: string): { action: ActionBlock } {
  const host = new URL(url).hostname;
  const display = lookupCommand(url);
  return {
    action: {
      kind: 'action',
      display: { lang: 'sh', text: display },
      async run(rt) {
        const r = await rt.cli(shell(display), { timeoutMs: 20_000 });
        const output = commandOutput(r);
        const failed = new RegExp(`lookup ${host.replace(/\./g, '\\.')}`).test(output);
        if (/unshare: /.test(r.stderr) && !failed)
          return {
            ok: true,
            output: `${output}\n→ this machine does not allow a private network namespace, so the lookup was not tried (it would have asked the machine's nameserver)`,
            facts: { inClusterNameResolves: 'not tried' },
          };
        return {
          ok: failed,
          output: failed
            ? `${output}\n→ ${host} does not resolve here: only the cluster's DNS knows it`
            : `${output}\n→ expected the lookup of ${host} to fail; it did not`,
          facts: { inClusterNameResolves: !failed },
        };
      },
    },
  };
}
