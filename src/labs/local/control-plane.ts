/**
 * The control plane's ComponentSpecs — etcd, kube-apiserver, kube-controller-manager and the ESO controller — with
 * their readiness probes. Command lines are in component-specs.ts / vault-eso-specs.ts; this file knows how each one
 * is judged ready.
 */
import { binaryPath } from '../../components/cache.ts';
import { components } from '../../components/versions.ts';
import type { RunDir } from '../run-dir.ts';
import { httpCall, waitForOk } from '../http-call.ts';
import {
  apiserverArgs,
  baseEnv,
  etcdArgs,
  kcmArgs,
  type LabFiles,
  type LabPorts,
} from './component-specs.ts';
import type { ComponentSpec } from './launch.ts';
import type { LabPki } from './pki.ts';
import { esoArgs, esoEnv } from './vault-eso-specs.ts';

export const READY_TIMEOUT_MS = { etcd: 20_000, apiserver: 60_000, kcm: 40_000, crds: 60_000, eso: 60_000 };

export function etcdSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  f: LabFiles,
  p: LabPorts,
  pki: LabPki,
): ComponentSpec {
  return {
    name: 'etcd',
    version: components.etcd.version,
    file: binaryPath(components.etcd, 'etcd', env),
    args: etcdArgs(f, p),
    env: baseEnv(run),
    port: p.etcdClient,
    otherPorts: [p.etcdPeer],
    what: 'etcd /health',
    timeoutMs: READY_TIMEOUT_MS.etcd,
    probe: async (s) => {
      const r = await httpCall(`https://127.0.0.1:${p.etcdClient}/health`, {
        ca: pki.caCertPem,
        cert: pki.etcdClient.certPem,
        key: pki.etcdClient.keyPem,
        signal: s,
      });
      return {
        done: r.status === 200 && r.body.includes('"true"'),
        seen: `${r.status} ${r.body.slice(0, 80)}`,
      };
    },
  };
}

/**
 * The API server's post-start hooks that only write bootstrap objects, each after a fixed first wait of 1 s
 * (`wait.Poll(1s, …)` in kube-apiserver): on the etcd seed those objects are already there — written by the same
 * version's hooks when the seed was made — so the lab does not wait for the hooks to confirm it. They still run.
 */
export const SEEDED_HOOKS = [
  'poststarthook/rbac/bootstrap-roles',
  'poststarthook/scheduling/bootstrap-system-priority-classes',
] as const;

export function apiserverSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  f: LabFiles,
  p: LabPorts,
  pki: LabPki,
  o: { extraArgs?: string[]; readyzExclude?: readonly string[] } = {},
): ComponentSpec {
  const k8s = components.kubernetes;
  const exclude = (o.readyzExclude ?? []).map((c) => `exclude=${encodeURIComponent(c)}`).join('&');
  return {
    name: 'kube-apiserver',
    version: k8s.version,
    file: binaryPath(k8s, 'kube-apiserver', env),
    args: [...apiserverArgs(f, p), ...(o.extraArgs ?? [])],
    env: baseEnv(run),
    port: p.apiserver,
    what: `kube-apiserver /readyz${exclude ? ` (${o.readyzExclude!.join(', ')} excluded)` : ''}`,
    timeoutMs: READY_TIMEOUT_MS.apiserver,
    probe: async (s) => {
      const r = await httpCall(`https://127.0.0.1:${p.apiserver}/readyz${exclude ? `?${exclude}` : ''}`, {
        ca: pki.caCertPem,
        signal: s,
      });
      return { done: r.status === 200, seen: `${r.status} ${r.body.slice(-120)}` };
    },
  };
}

/** Resolve once the API server's /healthz (post-start hooks included) answers 200. */
export async function waitForApiHealthz(o: {
  server: string;
  caPem: string;
  signal: AbortSignal;
  timeoutMs: number;
}): Promise<void> {
  await waitForOk(`${o.server}/healthz`, { ...o, ca: o.caPem, what: "the API server's /healthz" });
}

/** Ready when its health port answers and the service-account controller has created `default/default`. */
export function kcmSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  f: LabFiles,
  p: LabPorts,
  pki: LabPki,
  adminToken: string,
  withNode: boolean,
): ComponentSpec {
  const k8s = components.kubernetes;
  return {
    name: 'kube-controller-manager',
    version: k8s.version,
    file: binaryPath(k8s, 'kube-controller-manager', env),
    args: kcmArgs(f, p, withNode),
    env: baseEnv(run),
    port: p.kcm,
    what: 'kube-controller-manager to create the default ServiceAccount',
    timeoutMs: READY_TIMEOUT_MS.kcm,
    probe: async (s) => {
      const h = await httpCall(`https://127.0.0.1:${p.kcm}/healthz`, { ca: pki.caCertPem, signal: s });
      if (h.status !== 200) return { done: false, seen: `healthz ${h.status}` };
      const r = await httpCall(
        `https://127.0.0.1:${p.apiserver}/api/v1/namespaces/default/serviceaccounts/default`,
        { ca: pki.caCertPem, headers: { authorization: `Bearer ${adminToken}` }, signal: s },
      );
      return { done: r.status === 200, seen: `default ServiceAccount: ${r.status}` };
    },
  };
}

export function esoSpec(
  run: RunDir,
  env: NodeJS.ProcessEnv,
  port: number,
  kubeconfig: string,
  extraArgs: readonly string[] = [],
): ComponentSpec {
  const eso = components.eso;
  return {
    name: 'eso',
    version: eso.version,
    file: binaryPath(eso, 'external-secrets', env),
    args: [...esoArgs(port), ...extraArgs],
    env: esoEnv(baseEnv(run), kubeconfig),
    port,
    what: 'ESO health endpoint',
    timeoutMs: READY_TIMEOUT_MS.eso,
    probe: async (signal) => {
      const r = await httpCall(`http://127.0.0.1:${port}/healthz`, { signal });
      return { done: r.status === 200, seen: `${r.status}` };
    },
  };
}
