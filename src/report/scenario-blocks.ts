/**
 * Console output for parallel runs: each scenario's lines are held while it runs and printed as one block when it
 * ends, so lines of concurrent scenarios never interleave. On a terminal, one live line says what is running.
 */
import type { Output } from '../terminal/output.ts';
import type { Placement, ScenarioSink } from '../scenario/orchestrator.ts';
import type { Scenario } from '../scenario/model.ts';
import { ConsoleReporter } from './console-reporter.ts';
import type { SecretRegistry } from '../secrets/secret-registry.ts';

export class ScenarioBlocks {
  private readonly running = new Set<string>();
  private finished = 0;
  private live = false;

  constructor(
    private readonly out: Output,
    private readonly registry: SecretRegistry,
    private readonly total: number,
  ) {}

  sink(scenario: Scenario, placement: Placement): ScenarioSink {
    const lines: string[] = [];
    const buffer: Output = {
      result: (l) => lines.push(l),
      info: (l) => lines.push(l),
      interactive: false,
      color: this.out.color,
      stdout: this.out.stdout,
      stderr: this.out.stderr,
      closed: this.out.closed,
    };
    const reporter = new ConsoleReporter(buffer, { summary: false, registry: this.registry });
    this.running.add(scenario.name);
    this.progress();
    return {
      emit: (e) => {
        reporter.onEvent(e);
        if (e.kind === 'scenario.start' && placement.exclusive)
          lines.push(this.registry.redact(`  runs alone: ${placement.reason ?? 'exclusive'}`));
        if (e.kind === 'scenario.start' && placement.privateVault)
          lines.push(
            '  runs beside the others on a Vault server of its own (its Vault faults touch only that one)',
          );
      },
      done: () => {
        this.running.delete(scenario.name);
        this.finished += 1;
        this.clearLive();
        for (const l of lines) this.out.info(l);
        this.progress();
      },
    };
  }

  /** Remove the live line (before the summary is printed). */
  end(): void {
    this.clearLive();
  }

  private progress(): void {
    if (!this.out.interactive || this.running.size === 0) return;
    const width = (this.out.stderr as { columns?: number }).columns ?? 80;
    const text = `… ${this.finished}/${this.total} done; running: ${[...this.running].join(', ')}`;
    this.out.stderr.write(`\r\u001b[2K${text.length < width ? text : `${text.slice(0, width - 2)}…`}`);
    this.live = true;
  }

  private clearLive(): void {
    if (!this.live) return;
    this.out.stderr.write('\r\u001b[2K');
    this.live = false;
  }
}
