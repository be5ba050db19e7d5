// The `faults` list as a user writes it: each mistake is named by its field, as the scenario's are; the
// checks against the run's setting; an exec command split without a shell, refusing what only a shell
// would understand; the toxics a network fault adds; the JSON Schema phase 2 ships.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { splitCommand, ArgvError } from '../src/faults/argv.ts';
import { commandOf } from '../src/faults/exec.ts';
import { FaultsSchema, kindOf } from '../src/faults/kinds.ts';
import { toxicsOf, type Network } from '../src/faults/network.ts';
import { checkFaults, validateFaults } from '../src/faults/validate.ts';
import type { FaultSetting } from '../src/faults/kind.ts';

const problems = (raw: unknown) => validateFaults(raw).problems;
const SETTING: FaultSetting = { service: 'own-process', threads: 2, execAllowed: true, maxDurationMs: 15_000 };
const checked = (raw: unknown, setting: Partial<FaultSetting> = {}) => {
  const { faults, problems: p } = validateFaults(raw);
  expect(p).toEqual([]);
  return checkFaults(faults, { ...SETTING, ...setting });
};

describe('validating a faults list', () => {
  it('accepts the forms of the issue, durations as written', () => {
    const { faults, problems: p } = validateFaults([
      { at: '3s', kill: 'service', downFor: '2s' },
      { at: 7000, kill: 'thread', thread: 1 },
      { at: '8s', exec: 'docker restart shop', heal: ['docker', 'start', 'shop'], downFor: '2s', timeout: '10s' },
      { at: '9s', network: { latency: '200ms', jitter: '20ms' }, downFor: '1s' },
      { at: '11s', network: { reset: true }, downFor: '1s' },
      { at: '13s', network: { blackhole: true, share: 0.5 }, downFor: '1s' },
    ]);
    expect(p).toEqual([]);
    expect(faults.map((f) => kindOf(f).id)).toEqual(['kill-service', 'kill-thread', 'exec', 'network', 'network', 'network']);
    expect(faults[2]).toMatchObject({ shell: false, timeout: '10s' });
    expect(faults[3]).toMatchObject({ network: { share: 1 } });
    expect(faults.map((f) => kindOf(f).describe(f))).toEqual([
      'kill -9 the service at 3s, restart it after 2s',
      'crash HTTP thread 1 at 7000',
      'run `docker restart shop` at 8s, then `docker start shop` after 2s',
      '+200ms ± 20ms latency between the crowd and the target at 9s for 1s',
      'connections reset between the crowd and the target at 11s for 1s',
      'a blackhole on 50% of connections between the crowd and the target at 13s for 1s',
    ]);
  });

  it.each([
    [[{ at: '3s', kill: 'service' }], 'faults[0].downFor: is required'],
    [[{ at: '3s', kill: 'servce', downFor: '2s' }], 'faults[0].kill: must be one of "service", "thread", "service-process"'],
    [[{ at: '3s', kill: 'thread' }], 'faults[0].thread: is required'],
    [[{ at: '3s', kill: 'thread', thread: 1.5 }], 'faults[0].thread: must be a whole number, not 1.5'],
    [[{ at: 'soon', kill: 'service', downFor: '2s' }], 'faults[0].at: must be a duration: milliseconds, or a string like "500ms", "3s", "2m"'],
    [[{ at: '3s' }], 'faults[0]: says nothing the fault does: give one of kill, exec, network, restart, stop'],
    [[{ at: '3s', kill: 'service-process', downFor: '2s' }], 'faults[0].process: is required'],
    [[{ at: '3s', restart: 'memcached', downFor: '1s' }], 'faults[0].restart: must be "redis"'],
    [[{ at: '3s', stop: 'postgres' }], 'faults[0].downFor: is required'],
    [[{ at: '3s', kill: 'service', exec: 'x', downFor: '1s' }], 'faults[0]: has kill and exec: one action per fault (two faults may hit at the same moment)'],
    [[{ at: '3s', exec: 'x', heal: 5 }], 'faults[0].heal: must be a command: a string, or a list of strings (the program, then its arguments)'],
    [[{ at: '3s', network: { latency: '200ms' } }], 'faults[0].downFor: is required'],
    [[{ at: '3s', network: { latncy: '200ms' }, downFor: '1s' }], 'faults[0].network.latncy: unknown field'],
    [[{ at: '3s', network: { reset: false }, downFor: '1s' }], 'faults[0].network.reset: must be true'],
    [[{ at: '3s', kill: 'service', downFor: '2s', extra: 1 }], 'faults[0].extra: unknown field'],
    [[{ at: '1s', kill: 'service', downFor: '1s' }, 5], 'faults[1]: must be an object, like {"at": "3s", "kill": "service", "downFor": "2s"}'],
    ['nope', 'faults: must be a list, not "nope"'],
  ])('%j → %s', (raw, message) => {
    expect(problems(raw)).toEqual([message]);
  });

  it('names the path it is given (the scenario passes its own)', () => {
    expect(validateFaults([{ at: '1s', kill: 'service' }], ['presets', 2, 'faults']).problems).toEqual(['presets[2].faults[0].downFor: is required']);
  });

  it('the list and each fault have a JSON Schema (phase 2 ships it in scenario.schema.json)', () => {
    const schema = JSON.stringify(z.toJSONSchema(FaultsSchema, { io: 'input', target: 'draft-2020-12' }));
    for (const word of ['"kill"', '"service"', '"thread"', '"exec"', '"heal"', '"network"', '"blackhole"', '"downFor"']) expect(schema).toContain(word);
  });
});

describe('checking faults against the run', () => {
  it('a thread the service does not have, a moment past the run, exec without --allow-exec', () => {
    expect(checked([{ at: '1s', kill: 'thread', thread: 2 }])).toEqual(['faults[0].thread: the service has 2 HTTP thread(s), numbered 0 to 1']);
    expect(checked([{ at: '15s', kill: 'service', downFor: '1s' }])).toEqual([
      "faults[0].at: 15s is at or past the run's end (load.maxDuration, 15 s): it would never hit",
    ]);
    expect(checked([{ at: '1s', exec: ['true'] }], { execAllowed: false })).toEqual([
      "faults[0].exec: runs a command on this machine (true); flashsale runs a scenario's commands only with --allow-exec",
    ]);
  });

  it('kill faults need the built-in service as its own process', () => {
    expect(checked([{ at: '1s', kill: 'service', downFor: '1s' }], { service: 'none' })).toEqual([
      'faults[0].kill: "service" kills the built-in service, and this run\'s target is not the built-in service',
    ]);
    expect(checked([{ at: '1s', kill: 'service', downFor: '1s' }], { service: 'in-process' })[0]).toMatch(/must run as its own process/);
    expect(checked([{ at: '1s', kill: 'thread', thread: 0 }], { service: 'none' })[0]).toMatch(/^faults\[0\]\.kill: "thread"/);
  });

  it('two faults holding one resource at once', () => {
    expect(
      checked([
        { at: '3s', kill: 'service', downFor: '2s' },
        { at: '4s', kill: 'thread', thread: 0 },
        { at: '5s', kill: 'service', downFor: '1s' }, // right when the first heals: fine
        { at: '4s', network: { latency: '100ms' }, downFor: '3s' }, // another resource: fine
      ]),
    ).toEqual(['faults[1].at: 4s falls while faults[0] (3s for 2 s) still holds the service: faults on the service run one after the other']);
  });

  it('network: one effect, jitter only with latency', () => {
    expect(checked([{ at: '1s', network: {}, downFor: '1s' }])).toEqual(['faults[0].network: needs one effect: latency, reset, blackhole or bandwidth']);
    expect(checked([{ at: '1s', network: { latency: '1ms', reset: true }, downFor: '1s' }])).toEqual([
      'faults[0].network: has latency and reset: one effect per fault (add another fault at the same time for both)',
    ]);
    expect(checked([{ at: '1s', network: { jitter: '5ms', blackhole: true }, downFor: '1s' }])).toEqual(['faults[0].network.jitter: goes with latency']);
  });

  it('exec: commands that need a shell, a heal time without a heal, a timeout out of range', () => {
    expect(checked([{ at: '1s', exec: 'docker restart shop | tee log' }])[0]).toBe(
      `faults[0].exec: "|" is a shell operator: without "shell": true the command runs without a shell, so quote it ('…') to mean the character, or set "shell": true`,
    );
    expect(checked([{ at: '1s', exec: 'docker restart shop | tee log', shell: true }])).toEqual([]);
    expect(checked([{ at: '1s', exec: ['a'], shell: true }])[0]).toMatch(/a list already is the program and its arguments/);
    expect(checked([{ at: '1s', exec: 'x', downFor: '1s' }])).toEqual(['faults[0].downFor: says when to run heal, and there is no heal command']);
    expect(checked([{ at: '1s', exec: 'x', timeout: '11m' }])).toEqual(['faults[0].timeout: must be more than 0 and at most 10m']);
    expect(checked([{ at: '1s', exec: 'x', heal: 'rm ~/x' }])[0]).toMatch(/^faults\[0\]\.heal: "~" at the start of a word is the home folder to a shell/);
  });
});

describe('splitting a command without a shell', () => {
  it.each([
    ['docker restart shop', ['docker', 'restart', 'shop']],
    ['  kubectl   delete pod\tshop-0 ', ['kubectl', 'delete', 'pod', 'shop-0']],
    [`sh -c 'kill -9 $(cat pid) | true'`, ['sh', '-c', 'kill -9 $(cat pid) | true']],
    [`echo "a \\"quoted\\" word" it\\'s`, ['echo', 'a "quoted" word', "it's"]],
    [`curl -d '' http://127.0.0.1:1/x?a=1`, ['curl', '-d', '', 'http://127.0.0.1:1/x?a=1']],
    ['a~b c#d', ['a~b', 'c#d']],
  ])('%s', (command, argv) => {
    if (command.includes('?')) {
      // A "?" outside quotes is a wildcard to a shell: refused, quoted it is kept.
      expect(() => splitCommand(command)).toThrow(/"\?" is a shell wildcard/);
      expect(splitCommand(command.replace('http://127.0.0.1:1/x?a=1', `'http://127.0.0.1:1/x?a=1'`))).toEqual(argv);
      return;
    }
    expect(splitCommand(command)).toEqual(argv);
  });

  it.each([
    ['a; rm -rf x', /";" is a shell operator/],
    ['a && b', /"&" is a shell operator/],
    ['a > out', /">" is a shell operator/],
    ['echo $HOME', /"\$" is expanded by a shell/],
    ['echo "$HOME"', /"\$" inside "…" is expanded by a shell/],
    ['echo `id`', /"`" is expanded by a shell/],
    ['rm *.log', /"\*" is a shell wildcard/],
    ['cat ~/.ssh/id', /"~" at the start of a word/],
    ['a #comment', /"#" at the start of a word begins a shell comment/],
    [`echo 'open`, /never closed/],
    ['echo "open', /never closed/],
    ['echo \\', /lone \\/],
    ['   ', /is empty/],
  ])('refuses %s', (command, message) => {
    expect(() => splitCommand(command)).toThrow(ArgvError);
    expect(() => splitCommand(command)).toThrow(message);
  });

  it('a list is the program and its arguments as given; shell: true hands the string to /bin/sh -c', () => {
    expect(commandOf(['kubectl', 'delete', 'pod', 'shop 0'], false)).toEqual({ file: 'kubectl', args: ['delete', 'pod', 'shop 0'], display: "kubectl delete pod 'shop 0'" });
    expect(commandOf('docker ps | grep shop', true)).toEqual({ file: '/bin/sh', args: ['-c', 'docker ps | grep shop'], display: 'docker ps | grep shop' });
  });
});

describe('the toxics of a network fault', () => {
  const networkOf = (network: object) => (validateFaults([{ at: 0, network, downFor: 1 }]).faults[0] as Network).network;
  const streams = (network: object) => toxicsOf(networkOf(network), 't').map((t) => `${t.type}/${t.stream}`);
  it('latency and reset act on the answers, a blackhole both ways, unless a direction is given', () => {
    expect(streams({ latency: '200ms' })).toEqual(['latency/downstream']);
    expect(streams({ reset: true })).toEqual(['reset_peer/downstream']);
    expect(streams({ blackhole: true })).toEqual(['timeout/upstream', 'timeout/downstream']);
    expect(streams({ bandwidth: 8 })).toEqual(['bandwidth/downstream']);
    expect(streams({ reset: true, direction: 'to-target' })).toEqual(['reset_peer/upstream']);
    expect(streams({ latency: '5ms', direction: 'both' })).toEqual(['latency/upstream', 'latency/downstream']);
  });

  it('attributes in Toxiproxy units, the share as toxicity, names no other fault uses', () => {
    const [toxic] = toxicsOf({ latency: '1.5s', jitter: '20ms', share: 0.25 }, 'abc');
    expect(toxic).toEqual({ type: 'latency', attributes: { latency: 1500, jitter: 20 }, name: 'flashsale-abc-latency-downstream', stream: 'downstream', toxicity: 0.25 });
    const [a] = toxicsOf({ reset: true, share: 1 });
    const [b] = toxicsOf({ reset: true, share: 1 });
    expect(a.name).not.toBe(b.name);
  });
});
