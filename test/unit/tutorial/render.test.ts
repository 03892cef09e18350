import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
import { EXTERNAL_SECRET_YAML, SECRET_STORE_YAML } from '../../../src/tutorial/tutorial-text.ts';
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
      'secretstore',
      'externalsecret',
      'claims',
      'stolen-token',
      'rotate',
    ]);
  });

  it('never show a generated value, only its hash; commands read values from 0600 files', () => {
    const rotate = steps.find((s) => s.id === 'rotate')!;
    const put = rotate.blocks.find((b) => b.kind === 'action' && b.display);
    expect(put?.kind === 'action' && put.display?.text).toBe(
      'vault kv patch secret/my-app/config password=@password-1',
    );
    const everything = JSON.stringify(
      steps.map((s) => s.blocks.map((b) => (b.kind === 'action' ? [b.display, b.caption, b.undo] : b))),
    );
    for (const v of Object.values(ctx.values)) expect(everything).not.toContain(v.value);
    expect(everything).toContain(`sha256:${ctx.values.password1.hash}`);
  });

  it('declare undos in creation order (clean-up runs them in reverse)', () => {
    expect(declaredUndos(steps).map((u) => u.display)).toEqual([
      'vault kv metadata delete secret/my-app/config',
      'vault policy delete my-app-read',
      'vault auth disable kubernetes',
      'vault delete auth/kubernetes/role/my-app-role',
      'kubectl delete namespace my-app --timeout=90s',
      'kubectl delete secretstore vault-backend -n my-app',
      'kubectl delete clusterrolebinding my-app-sa-tokenreview',
      'kubectl delete externalsecret my-app-secrets -n my-app',
      'vault kv metadata delete secret/other-app/config',
    ]);
  });

  it('apply the tutorial\'s ExternalSecret as printed: refreshInterval "1h"', () => {
    const es = steps.find((s) => s.id === 'externalsecret')!;
    const yaml = es.blocks.find((b) => b.kind === 'code');
    expect(yaml?.kind === 'code' && yaml.text).toContain('refreshInterval: "1h"');
    expect(readFileSync(join(ctx.workDir, 'external-secret.yaml'), 'utf8')).toBe(EXTERNAL_SECRET_YAML + '\n');
  });

  it('on the local lab, change only the server: line of the SecretStore', () => {
    const lab = readFileSync(join(ctx.workDir, 'secret-store.lab.yaml'), 'utf8').split('\n');
    const orig = (SECRET_STORE_YAML + '\n').split('\n');
    const differ = orig.flatMap((l, i) => (l === lab[i] ? [] : [[l, lab[i]]]));
    expect(differ).toEqual([
      [
        '      server: "http://hashicorp-vault.hashicorp-vault.svc.cluster.local:8200"',
        '      server: "http://127.0.0.1:38200"',
      ],
    ]);
  });

  it('keep the work directory inside the lab run directory, 0700', () => {
    expect(dirname(ctx.workDir)).toBe(ctx.lab.runDir);
    expect(statSync(ctx.workDir).mode & 0o777).toBe(0o700);
    expect(statSync(ctx.values.password1.file).mode & 0o777).toBe(0o600);
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
      'lookup x on 10.255.255.53:53: dial udp 10.255.255.53:53',
      `<redacted sha256:${ctx.values.password1.hash}> sha256:${ctx.values.otherApp.hash} sha256:b3bd8a19`,
    ].join('\n');
    expect(normalize(text)).toBe(
      [
        'http://127.0.0.1:<vault-port> https://127.0.0.1:<apiserver-port>',
        '<workdir>/ca.crt <run-dir>/kubeconfig',
        'created_time       <timestamp> and <timestamp>',
        'followed N.NN s after',
        'lookup x on <nameserver>:53: dial udp <nameserver>:53',
        '<redacted sha256:{password-1}> sha256:{other-app-password} sha256:b3bd8a19',
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
    expect(md).toContain('## 9. Rotate in Vault; force the sync');
    expect(md).toContain('```text\nSuccess! <timestamp>\n```');
    expect(md).toContain('> **Pitfall:** A backslash continues a line');
    expect(md).toContain('`secret-store.yaml`:\n\n```yaml\n');
    const cleanup = md.slice(md.indexOf('## Clean up'));
    expect(cleanup.indexOf('kubectl delete externalsecret')).toBeLessThan(
      cleanup.indexOf('vault kv metadata delete secret/my-app'),
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
