// The flashsale command line: one file per command under commands/, each registering itself here.
import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import { EXIT, FlashsaleError } from '../errors.ts';
import { register as registerSimulate } from './commands/simulate.ts';
import { register as registerServe } from './commands/serve.ts';
import { register as registerRun } from './commands/run.ts';
import { register as registerScenarios } from './commands/scenarios.ts';
import { register as registerK6 } from './commands/k6.ts';
import { register as registerReport } from './commands/report.ts';
import { register as registerCompare } from './commands/compare.ts';
import { register as registerMerge } from './commands/merge.ts';
import { register as registerPlan } from './commands/plan.ts';
import { register as registerImport } from './commands/import.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }; // our own package.json: it has a version

export function buildProgram(): Command {
  const program = new Command('flashsale')
    .description('Replay flash sales against a checkout service and tell the truth about what happened.')
    .version(version)
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  for (const register of [registerSimulate, registerServe, registerRun, registerScenarios, registerK6, registerReport, registerCompare, registerMerge, registerPlan, registerImport]) {
    register(program);
  }
  // Subcommands inherit exitOverride only if set before they are added; set it on each explicitly.
  for (const cmd of program.commands) cmd.exitOverride().showHelpAfterError();
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are "errors" to commander; they are successes to the user.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (err instanceof FlashsaleError) {
      console.error(`flashsale: ${err.message}`);
      return err.exitCode;
    }
    // Not one of ours: still one line a person can act on, never a stack (FLASHSALE_DEBUG=1 shows it).
    const message = err instanceof Error ? err.message : String(err);
    console.error(`flashsale: unexpected error: ${message}`);
    if (process.env.FLASHSALE_DEBUG) console.error(err);
    else console.error('flashsale: this is a bug or an environment problem; FLASHSALE_DEBUG=1 prints where it happened.');
    return EXIT.failure;
  }
}
