import { describe, expect, it } from 'vitest';
import type { Block } from '../../../src/tutorial/model.ts';
import {
  blankOutputs,
  markdownNormalizer,
  renderMarkdown,
  staticTranscript,
  terminalBlock,
  terminalOutput,
  wrap,
} from '../../../src/tutorial/render.ts';
import { declaredUndos, introBlocks, tutorialSteps } from '../../../src/tutorial/steps.ts';
import type { Transcript } from '../../../src/tutorial/transcript.ts';
import { fakeContext } from './fake-context.ts';

const plain = { color: false };

describe('terminal rendering', () => {
  it('shows shell commands with a prompt, continuation lines indented', () => {
    const b: Block = { kind: 'code', lang: 'sh', text: 'vault write x \\\n    a=1', caption: 'The command:' };
    expect(terminalBlock(plain, b)).toEqual(['  The command:', '  $ vault write x \\', '        a=1']);
  });

  it('labels notes and wraps them under their marker', () => {
    const lines = terminalBlock(plain, { kind: 'note', tone: 'pitfall', text: 'word '.repeat(40).trim() });
    expect(lines[0]).toMatch(/^ {2}⚠ pitfall: word/);
    expect(lines.slice(1).every((l) => l.startsWith('    word'))).toBe(true);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
  });

  it('prints an action as its command, or its caption when it is an API check', async () => {
    const run = () => Promise.resolve({ output: '', ok: true });
    expect(
      terminalBlock(plain, { kind: 'action', display: { lang: 'sh', text: 'kubectl get x' }, run }),
    ).toEqual(['  $ kubectl get x']);
    expect(terminalBlock(plain, { kind: 'action', caption: 'Checked through the API:', run })).toEqual([
      '  Checked through the API:',
    ]);
    await Promise.resolve();
  });

  it('frames output lines and says when there was none', () => {
    expect(terminalOutput(plain, { text: 'a\nb', ok: true })).toEqual(['    │ a', '    │ b']);
    expect(terminalOutput(plain, { text: '', ok: true })).toEqual(['    │ (no output)']);
  });

  it('wraps on words and never splits a long word', () => {
    expect(wrap('aaa bbb ccc', 8)).toEqual(['aaa bbb', 'ccc']);
    expect(wrap('x'.repeat(20), 8)).toEqual(['x'.repeat(20)]);
  });
});

describe('steps', () => {
  const ctx = fakeContext();
  const steps = tutorialSteps(ctx);

  it("follow the tutorial's order", () => {
    expect(steps.map((s) => s.id)).toEqual([
      'secret',
      'policy',
      'auth',
      'role',
      'namespace',
      'secretstore',
      'externalsecret',
      'secret-synced',
      'rotate',
    ]);
  });

  it('never show a generated value, only its hash; the executed argv reads it from a file', () => {
    const first = steps[0]!.blocks.find((b) => b.kind === 'action');
    expect(first?.kind === 'action' && first.display?.text).toBe(
      `vault kv put secret/my-app/config username=my-app-user password=<generated, sha256:${ctx.values.password1.hash}> api_key=<generated, sha256:${ctx.values.apiKey.hash}>`,
    );
    const everything = JSON.stringify(
      steps.map((s) => s.blocks.map((b) => (b.kind === 'action' ? [b.display, b.caption, b.undo] : b))),
    );
    for (const v of Object.values(ctx.values)) expect(everything).not.toContain(v.value);
  });

  it('declare undos in creation order (clean-up runs them in reverse)', () => {
    expect(declaredUndos(steps).map((u) => u.display)).toEqual([
      'vault kv metadata delete secret/my-app/config',
      'vault policy delete my-app-read',
      'vault auth disable kubernetes',
      'vault delete auth/kubernetes/role/my-app-role',
      'kubectl delete clusterrolebinding my-app-sa-tokenreview',
      'kubectl delete namespace my-app --timeout=90s',
      'kubectl delete secretstore vault-backend -n my-app',
      'kubectl delete externalsecret my-app-secrets -n my-app',
    ]);
  });

  it('use the demo refreshInterval in the ExternalSecret and say the tutorial has 1h', () => {
    const es = steps.find((s) => s.id === 'externalsecret')!;
    const yaml = es.blocks.find((b) => b.kind === 'code');
    expect(yaml?.kind === 'code' && yaml.text).toContain('refreshInterval: 10s');
    expect(JSON.stringify(es.blocks)).toContain('refreshInterval: 1h');
  });
});

describe('markdown', () => {
  const ctx = fakeContext();
  const steps = tutorialSteps(ctx);
  const normalize = markdownNormalizer(ctx, '/state/labs/x');

  it('replaces ports, the work directory, timestamps, durations and generated hashes', () => {
    const text = [
      'http://127.0.0.1:38200 https://127.0.0.1:36443',
      `${ctx.workDir}/ca.crt /state/labs/x/kubeconfig`,
      'created_time       2026-11-27T21:36:58Z and 2026-11-27T21:36:58.123456Z',
      'followed 9.08 s after',
      `<redacted sha256:${ctx.values.password2.hash}> sha256:${ctx.values.apiKey.hash} sha256:b3bd8a19`,
    ].join('\n');
    expect(normalize(text)).toBe(
      [
        'http://127.0.0.1:<vault-port> https://127.0.0.1:<apiserver-port>',
        '<workdir>/ca.crt <run-dir>/kubeconfig',
        'created_time       <timestamp> and <timestamp>',
        'followed N.NN s after',
        '<redacted sha256:{password-2}> sha256:{api_key-1} sha256:b3bd8a19',
      ].join('\n'),
    );
  });

  it('renders steps, outputs as ```text fences, notes as quotes, and the clean-up in reverse', () => {
    const t: Transcript = staticTranscript(introBlocks(ctx), steps);
    const action = steps[0]!.blocks.find((b) => b.kind === 'action');
    if (action?.kind === 'action')
      t.steps[0]!.outputs.set(action, { text: 'Success! 2026-01-01T00:00:00Z', ok: true });
    const md = renderMarkdown(t, { normalize, provider: 'local' });
    expect(md).toMatch(/^# The Vault \+ External Secrets Operator tutorial/);
    expect(md).toContain('## 1. Create the secret in Vault');
    expect(md).toContain('## 9. Rotate in Vault and watch the Secret follow');
    expect(md).toContain('```text\nSuccess! <timestamp>\n```');
    expect(md).toContain('> **Pitfall:** A backslash continues a line');
    expect(md).toContain('`secret-store.yaml`:\n\n```yaml\n');
    const cleanup = md.slice(md.indexOf('## Clean up'));
    expect(cleanup.indexOf('kubectl delete externalsecret')).toBeLessThan(
      cleanup.indexOf('vault kv metadata delete'),
    );
    for (const v of Object.values(ctx.values)) expect(md).not.toContain(v.value);
    expect(md).not.toContain(ctx.workDir);
    expect(md).not.toContain('38200');
  });

  it('blanks only output fences', () => {
    const md = '```sh\nvault x\n```\n\n```text\nout 1\nout 2\n```\n';
    expect(blankOutputs(md)).toBe('```sh\nvault x\n```\n\n```text\n…\n```\n');
  });
});
