/** A kubeconfig for one user with a bearer token against the lab's API server. */
import { stringify } from 'yaml';

export function kubeconfigYaml(o: {
  server: string;
  caPem: string;
  token: string;
  user: string;
  context?: string;
}): string {
  const context = o.context ?? 'vault-eso-lab';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: context,
        cluster: { server: o.server, 'certificate-authority-data': Buffer.from(o.caPem).toString('base64') },
      },
    ],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [{ name: context, context: { cluster: context, user: o.user } }],
    'current-context': context,
  });
}
