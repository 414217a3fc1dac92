/**
 * What the targets derive from the corpus once (layouts, length fields, baseline parses), memoised
 * per corpus.
 *
 * @module
 */
import { parseClientHello } from '../src/wire/client-hello.js';
import { derLengthFields, walkClientHello, type HelloLayout, type LengthField } from './bytes.js';
import type { Corpus } from './corpus.js';
import { normalize, type OracleHello } from './hello-oracle.js';

/** A corpus hello with its layout and baseline reading. */
export interface DerivedHello {
  name: string;
  message: Buffer;
  wire: Buffer;
  records: number;
  layout: HelloLayout;
  baseline: OracleHello;
  tls13: boolean;
}

/** A corpus session with its DER length fields. */
export interface DerivedSession {
  name: string;
  der: Buffer;
  fields: LengthField[];
}

/** Everything derived. */
export interface Derived {
  hellos: DerivedHello[];
  /** Hellos offering TLS 1.3 (for the PSK target). */
  tls13: DerivedHello[];
  /** The hello with the most extensions: re-parsed after failures to detect leaked state. */
  reference: DerivedHello;
  sessions: DerivedSession[];
  /** PEM texts: the `s_client -sess_out` files. */
  pems: string[];
}

const memo = new WeakMap<Corpus, Derived>();

/** Derives (once) what the targets need from the corpus. */
export function derive(corpus: Corpus): Derived {
  const known = memo.get(corpus);
  if (known !== undefined) return known;
  const hellos: DerivedHello[] = corpus.hellos.map((h) => {
    const layout = walkClientHello(h.message);
    if (layout === undefined) throw new Error(`corpus hello ${h.name} does not walk`);
    const baseline = normalize(parseClientHello(h.message));
    return {
      name: h.name,
      message: h.message,
      wire: h.wire,
      records: h.records,
      layout,
      baseline,
      tls13: baseline.supportedVersions?.includes(0x0304) === true,
    };
  });
  if (hellos.length === 0) throw new Error('corpus has no hellos');
  let reference = hellos[0]!;
  for (const h of hellos) {
    if (h.baseline.extensionTypes.length > reference.baseline.extensionTypes.length) reference = h;
  }
  const derived: Derived = {
    hellos,
    tls13: hellos.filter((h) => h.tls13),
    reference,
    sessions: corpus.sessions.map((s) => ({
      name: s.name,
      der: s.der,
      fields: derLengthFields(s.der),
    })),
    pems: corpus.pems.map((p) => p.text),
  };
  memo.set(corpus, derived);
  return derived;
}

/** Picks item `i` modulo the length (arbitraries generate plain naturals). */
export function pick<T>(items: readonly T[], i: number): T {
  const item = items[i % items.length];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}
