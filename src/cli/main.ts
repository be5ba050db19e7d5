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

const EXAMPLES = `
Examples:
  flashsale run sneaker-drop                     replay a preset sale against the built-in service
  flashsale run my-sale.json --target http://127.0.0.1:8080 --dashboard
                                                 your service, with a live page and /metrics`;

/** "(required)" after every mandatory argument and option, so help says which ones are. */
function markRequired(cmd: Command): void {
  for (const arg of cmd.registeredArguments) if (arg.required && !arg.description.endsWith('(required)')) arg.description = `${arg.description} (required)`;
  for (const opt of cmd.options) if (opt.mandatory && !opt.description.endsWith('(required)')) opt.description = `${opt.description} (required)`;
}

export function buildProgram(): Command {
  const program = new Command('flashsale')
    .description('Replay flash sales against a checkout service and tell the truth about what happened.')
    .version(version)
    .showHelpAfterError('(flashsale --help lists the commands)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) })
    .addHelpText('after', EXAMPLES);
  // `run` first: it is what most people came for.
  for (const register of [registerRun, registerScenarios, registerReport, registerCompare, registerMerge, registerPlan, registerServe, registerSimulate, registerK6, registerImport]) {
    register(program);
  }
  // Subcommands inherit exitOverride only if set before they are added; set it on each explicitly.
  // A usage error prints the error and one line pointing at --help, not the whole help.
  for (const cmd of program.commands) {
    cmd.exitOverride().showHelpAfterError(`(flashsale ${cmd.name()} --help lists every option)`);
    markRequired(cmd);
  }
  return program;
}

/** Runs the CLI and returns the exit code instead of exiting, so tests can call it in-process. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    if (argv.length === 0) {
      // Nothing asked: the help, on stderr, and a non-zero exit (a script that forgot its command fails).
      process.stderr.write(program.helpInformation());
      process.stderr.write('flashsale: no command given (flashsale run <scenario> to replay a sale)\n');
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
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
