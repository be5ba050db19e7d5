// `{ "at": "3s", "network": { "latency": "200ms" }, "downFor": "2s" }` (or `"reset": true`,
// `"blackhole": true`, `"bandwidth": 16`): a network fault between the crowd and the target, made by a
// Toxiproxy toxic on the proxy the crowd goes through, and removed after downFor. The audit reads the
// target directly, not through the proxy.
//
// Which way it acts (Toxiproxy's streams: upstream = requests to the target, downstream = answers):
// - latency, bandwidth: the answers ("from-target"), so a round trip is slowed once by `latency`;
// - reset: the answers: the target has acted on the request (an order may be committed) and the client
//   sees its connection reset instead of the answer — the ambiguous case a checkout must survive;
//   "direction": "to-target" resets before the target sees anything;
// - blackhole: both ways, a partition: nothing passes, connections stay open; when it heals Toxiproxy
//   closes the connections it held.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { FaultError, messageOf } from '../errors.ts';
import type { FaultKind } from './kind.ts';
import { at, downFor, duration, durationMs } from './spec.ts';
import type { Stream, Toxic, ToxicSpec } from './toxiproxy/client.ts';

const Effect = z
  .strictObject({
    latency: duration.optional().meta({ description: 'Added to every answer.' }),
    jitter: duration.optional().meta({ description: 'With latency: ± this much, at random.' }),
    reset: z.literal(true).optional().meta({ description: 'Reset connections (TCP RST) instead of passing answers.' }),
    blackhole: z.literal(true).optional().meta({ description: 'Nothing passes; connections hang until the fault heals.' }),
    bandwidth: z.number().positive().optional().meta({ description: 'Limit to this many KB/s.' }),
    direction: z.enum(['both', 'to-target', 'from-target']).optional().meta({ description: 'Which way it acts (default: from-target, blackhole both).' }),
    share: z.number().min(0).max(1).default(1).meta({ description: 'Share of connections it acts on (Toxiproxy: toxicity).' }),
  })
  .meta({ description: 'One effect: latency (with jitter), reset, blackhole or bandwidth.' });

export const NetworkSpec = z
  .strictObject({ at, network: Effect, downFor })
  .meta({ title: 'network fault', description: 'Through Toxiproxy, between the crowd and the target; removed after downFor.' });
export type Network = z.output<typeof NetworkSpec>;

const EFFECTS = ['latency', 'reset', 'blackhole', 'bandwidth'] as const;

function effectOf(n: Network['network']): (typeof EFFECTS)[number] {
  return EFFECTS.find((e) => n[e] !== undefined)!; // the schema requires exactly one effect
}

function toxicOf(n: Network['network']): Toxic {
  switch (effectOf(n)) {
    case 'latency':
      // effectOf chose 'latency' because n.latency is set
      return { type: 'latency', attributes: { latency: durationMs(n.latency!), jitter: n.jitter === undefined ? 0 : durationMs(n.jitter) } };
    case 'reset':
      return { type: 'reset_peer', attributes: { timeout: 0 } };
    case 'blackhole':
      return { type: 'timeout', attributes: { timeout: 0 } };
    case 'bandwidth':
      return { type: 'bandwidth', attributes: { rate: n.bandwidth! } }; // effectOf chose 'bandwidth' because it is set
  }
}

function streamsOf(n: Network['network']): Stream[] {
  const direction = n.direction ?? (n.blackhole ? 'both' : 'from-target');
  return direction === 'both' ? ['upstream', 'downstream'] : direction === 'to-target' ? ['upstream'] : ['downstream'];
}

/** The toxics a network fault adds, one per stream, with names no other fault uses. */
export function toxicsOf(n: Network['network'], tag = randomUUID().slice(0, 8)): ToxicSpec[] {
  const toxic = toxicOf(n);
  return streamsOf(n).map((stream) => ({ ...toxic, name: `flashsale-${tag}-${toxic.type}-${stream}`, stream, toxicity: n.share }));
}

export const network: FaultKind<Network> = {
  id: 'network',
  schema: NetworkSpec,
  matches: (spec) => 'network' in spec,
  describe(spec) {
    const n = spec.network;
    const what = { latency: `+${n.latency}${n.jitter ? ` ± ${n.jitter}` : ''} latency`, reset: 'connections reset', blackhole: 'a blackhole', bandwidth: `${n.bandwidth} KB/s` }[effectOf(n)];
    const share = n.share < 1 ? ` on ${Math.round(n.share * 100)}% of connections` : '';
    return `${what}${share} between the crowd and the target at ${spec.at} for ${spec.downFor}`;
  },
  check(spec, _setting, field) {
    const n = spec.network;
    const given = EFFECTS.filter((e) => n[e] !== undefined);
    if (given.length === 0) return [`${field('network')}: needs one effect: latency, reset, blackhole or bandwidth`];
    if (given.length > 1) return [`${field('network')}: has ${given.join(' and ')}: one effect per fault (add another fault at the same time for both)`];
    if (n.jitter !== undefined && n.latency === undefined) return [`${field('network', 'jitter')}: goes with latency`];
    if (n.latency !== undefined && durationMs(n.latency) <= 0) return [`${field('network', 'latency')}: must be more than 0`];
    return [];
  },
  downForMs: (spec) => durationMs(spec.downFor),
  resource: () => 'network',
  async inject(spec, ctx) {
    const net = ctx.network;
    if (!net) throw new FaultError('network fault: no Toxiproxy proxy between the crowd and the target');
    const toxics = toxicsOf(spec.network);
    const added: string[] = [];
    try {
      for (const t of toxics) {
        await net.client.addToxic(net.proxy, t);
        added.push(t.name);
      }
    } catch (e) {
      // Half a fault is not the fault asked for: take back what was added, then say why.
      for (const name of added) await net.client.removeToxic(net.proxy, name).catch(() => undefined);
      throw new FaultError(`network fault: ${messageOf(e)}`);
    }
    return {
      detail: { proxy: net.proxy, toxics: toxics.map(({ name, type, stream, toxicity, attributes }) => ({ name, type, stream, toxicity, attributes })) },
      async heal() {
        const problems: string[] = [];
        for (const name of added) await net.client.removeToxic(net.proxy, name).catch((e: Error) => problems.push(e.message));
        if (problems.length > 0) throw new FaultError(`network fault: could not remove every toxic: ${problems.join('; ')}`);
        return { removed: added };
      },
    };
  },
};
