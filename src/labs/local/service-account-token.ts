/** A long-lived TokenRequest token for ESO's ServiceAccount (the controller runs as the chart's identity). */
import { ComponentStartError } from '../../errors.ts';
import { ESO_NAMESPACE, ESO_SERVICE_ACCOUNT } from '../../components/eso-chart.ts';
import { httpCall } from '../http-call.ts';

/** A year-long token (the lab lives far shorter; `up` labs may live for days). */
export async function serviceAccountToken(
  server: string,
  ca: string,
  adminToken: string,
  signal: AbortSignal,
): Promise<string> {
  const r = await httpCall(
    `${server}/api/v1/namespaces/${ESO_NAMESPACE}/serviceaccounts/${ESO_SERVICE_ACCOUNT}/token`,
    {
      method: 'POST',
      ca,
      headers: { authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 31_536_000 },
      }),
      signal,
    },
  );
  const token =
    r.status === 201 || r.status === 200
      ? (JSON.parse(r.body) as { status?: { token?: string } }).status?.token
      : undefined;
  if (!token)
    throw new ComponentStartError(
      'eso',
      `could not get a token for ServiceAccount ${ESO_NAMESPACE}/${ESO_SERVICE_ACCOUNT}: HTTP ${r.status}`,
      {},
    );
  return token;
}
