// `{ "at": "3s", "exec": "docker restart shop", "heal": "docker start shop", "downFor": "5s", "timeout": "30s" }`:
// run a command at that moment, for any target (a container, a pod, a VM, a script of the user's own).
// Its exit code and output are kept in the fault's record, bounded (command.ts). A command that fails
// (non-zero exit, a signal, a timeout, a program that does not exist) fails the fault, saying so.
//
// Quoting and security (docs/faults.md, "exec: quoting and security"):
// - A string runs WITHOUT a shell: it is split into words (argv.ts), and anything only a shell would
//   understand (| ; & > $ * ~ …) is refused when the scenario is validated. A list runs exactly as
//   given. "shell": true runs the string with /bin/sh -c, when the user wants a shell.
// - A scenario's commands run as the user who runs flashsale, so `flashsale run` runs them only when
//   asked to (--allow-exec, checked through FaultSetting.execAllowed): a scenario file from elsewhere
//   must not run commands because someone replayed it.
// - The command's environment is flashsale's, without FLASHSALE_ADMIN_TOKEN (the target's secret is
//   not the command's business).
import { z } from 'zod';
import { ArgvError, splitCommand } from './argv.ts';
import { describeResult, runCommand, type CommandResult, type CommandSpec } from './command.ts';
import { FaultError } from '../errors.ts';
import type { FaultKind } from './kind.ts';
import { at, duration, durationMs } from './spec.ts';

export const EXEC_DEFAULT_TIMEOUT = '30s';
const MAX_TIMEOUT_MS = 10 * 60_000;

const COMMAND_MESSAGE = 'must be a command: a string, or a list of strings (the program, then its arguments)';
const Command = z
  .union([z.string().min(1), z.array(z.string()).min(1)], { error: COMMAND_MESSAGE })
  .meta({ description: 'A command: one string (split into words, no shell unless "shell": true), or a list: the program and its arguments exactly.' });

export const ExecSpec = z
  .strictObject({
    at,
    exec: Command.meta({ description: 'The command that makes the fault: "docker restart shop", ["kubectl", "delete", "pod", "shop-0"].' }),
    heal: Command.optional().meta({ description: 'A command that undoes it, run downFor after the fault hit (and after the exec command ended).' }),
    downFor: duration.optional().meta({ description: 'When to run heal: this long after the fault hit (default: as soon as the exec command ended).' }),
    timeout: duration.default(EXEC_DEFAULT_TIMEOUT).meta({ description: 'Each command is ended (its whole process group) past this.' }),
    shell: z.boolean().default(false).meta({ description: 'Run the strings with /bin/sh -c (pipes, variables, globs): only when you mean a shell.' }),
  })
  .meta({ title: 'run a command', description: 'Run a command at `at`, and optionally a heal command after downFor; exit codes and output are kept.' });
export type Exec = z.output<typeof ExecSpec>;

/** argv for a command as written, or the reason it cannot run without a shell. */
export function commandOf(command: string | string[], shell: boolean): CommandSpec {
  if (Array.isArray(command)) {
    if (command[0] === '') throw new ArgvError('the program (the first item) is empty');
    return { file: command[0], args: command.slice(1), display: command.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", `'\\''`)}'`)).join(' ') };
  }
  if (shell) return { file: '/bin/sh', args: ['-c', command], display: command };
  const [file, ...args] = splitCommand(command);
  return { file, args, display: command };
}

function checkCommand(command: string | string[] | undefined, shell: boolean, where: string): string[] {
  if (command === undefined) return [];
  if (shell && Array.isArray(command)) return [`${where}: "shell": true runs a string with /bin/sh -c; a list already is the program and its arguments`];
  try {
    commandOf(command, shell);
    return [];
  } catch (e) {
    if (e instanceof ArgvError) return [`${where}: ${e.message}`];
    throw e;
  }
}

function resultDetail(r: CommandResult): Record<string, unknown> {
  return { ...r };
}

async function run(command: string | string[], spec: Exec, env: NodeJS.ProcessEnv, cwd: string): Promise<CommandResult> {
  return runCommand(commandOf(command, spec.shell), { timeoutMs: durationMs(spec.timeout), cwd, env });
}

function failed(r: CommandResult): boolean {
  return r.startError !== null || r.timedOut || r.exitCode !== 0;
}

export const exec: FaultKind<Exec> = {
  id: 'exec',
  schema: ExecSpec,
  matches: (spec) => 'exec' in spec,
  describe: (spec) => {
    const shown = (c: string | string[]) => (Array.isArray(c) ? commandOf(c, false).display : c);
    return `run \`${shown(spec.exec)}\` at ${spec.at}${spec.heal ? `, then \`${shown(spec.heal)}\`${spec.downFor !== undefined ? ` after ${spec.downFor}` : ''}` : ''}`;
  },
  check(spec, setting, field) {
    const problems = [...checkCommand(spec.exec, spec.shell, field('exec')), ...checkCommand(spec.heal, spec.shell, field('heal'))];
    const timeout = durationMs(spec.timeout);
    if (timeout <= 0 || timeout > MAX_TIMEOUT_MS) problems.push(`${field('timeout')}: must be more than 0 and at most 10m`);
    if (spec.downFor !== undefined && spec.heal === undefined) problems.push(`${field('downFor')}: says when to run heal, and there is no heal command`);
    if (!setting.execAllowed) problems.push(`${field('exec')}: runs a command on this machine (${Array.isArray(spec.exec) ? commandOf(spec.exec, false).display : spec.exec}); flashsale runs a scenario's commands only with --allow-exec`);
    return problems;
  },
  downForMs: (spec) => (spec.heal === undefined ? null : durationMs(spec.downFor ?? 0)),
  resource: () => null,
  async inject(spec, ctx) {
    const setting = ctx.exec;
    if (!setting?.allowed) throw new FaultError('exec: running commands was not allowed (--allow-exec)');
    const { FLASHSALE_ADMIN_TOKEN: _secret, ...env } = setting.env;
    const result = await run(spec.exec, spec, env, setting.cwd);
    if (failed(result)) throw new FaultError(`exec \`${result.command}\`: ${describeResult(result, durationMs(spec.timeout))}`, { exec: resultDetail(result) });
    const heal = spec.heal;
    return {
      detail: { exec: resultDetail(result) },
      heal:
        heal === undefined
          ? undefined
          : async () => {
              const healed = await run(heal, spec, env, setting.cwd);
              if (failed(healed)) throw new FaultError(`heal \`${healed.command}\`: ${describeResult(healed, durationMs(spec.timeout))}`, { heal: resultDetail(healed) });
              return { heal: resultDetail(healed) };
            },
    };
  },
};
