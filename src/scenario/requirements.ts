/**
 * A scenario's `requires:` list: providers it can run on and capabilities the lab must have (`node`: a kubelet,
 * so pods run). Any listed provider satisfies it; every listed capability must be there. When unmet, the reason
 * says what is missing and why this lab lacks it (e.g. "no node: the node needs root").
 */
export const CAPABILITIES = ['node'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Capabilities of a lab: present (true) or absent with the lab's reason. */
export type LabCapabilities = Readonly<Partial<Record<Capability, true | string>>>;

export function unmetRequirement(
  requires: readonly string[] | undefined,
  provider: string,
  capabilities: LabCapabilities = {},
): string | undefined {
  if (!requires?.length) return undefined;
  const caps = requires.filter((r): r is Capability => (CAPABILITIES as readonly string[]).includes(r));
  const providers = requires.filter((r) => !caps.includes(r as Capability));
  if (providers.length && !providers.includes(provider))
    return `requires ${providers.join(' or ')}; this lab is ${provider}`;
  for (const c of caps) {
    const have = capabilities[c];
    if (have !== true)
      return `requires a ${c}; this ${provider} lab has none${typeof have === 'string' ? ` (${have.replace(/^no node: /, '')})` : ''}`;
  }
  return undefined;
}

/** A lab's capabilities, from its connection record. */
export function labCapabilities(connection: { node?: unknown; noNode?: string }): LabCapabilities {
  return { node: connection.node ? true : (connection.noNode ?? 'no node') };
}
