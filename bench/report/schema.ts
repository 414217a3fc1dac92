/**
 * A small JSON schema for the benchmark's `--json` output and a validator for it: the file is
 * checked before it is written, and the CI smoke test checks it again after reading it back.
 * Hand-written (about fifty lines) because a schema library would be the biggest dependency of
 * the benchmark for one check.
 *
 * @module
 */

export type Schema =
  | { type: 'number'; min?: number; max?: number; integer?: boolean; nullable?: boolean }
  | { type: 'string'; enum?: readonly string[]; nonEmpty?: boolean }
  | { type: 'boolean'; nullable?: boolean }
  | { type: 'array'; items: Schema; minItems?: number }
  | {
      type: 'object';
      properties: Readonly<Record<string, Schema>>;
      /** Properties that may be absent (every other one is required). */
      optional?: readonly string[];
    };

/** Every violation of `schema` by `value`, as `path: problem` lines; empty when it conforms. */
export function validate(schema: Schema, value: unknown, path = '$'): string[] {
  switch (schema.type) {
    case 'number': {
      if (value === null && schema.nullable === true) return [];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return [`${path}: expected a finite number${schema.nullable ? ' or null' : ''}`];
      }
      const errors: string[] = [];
      if (schema.integer === true && !Number.isInteger(value)) errors.push(`${path}: not integer`);
      if (schema.min !== undefined && value < schema.min) errors.push(`${path}: < ${schema.min}`);
      if (schema.max !== undefined && value > schema.max) errors.push(`${path}: > ${schema.max}`);
      return errors;
    }
    case 'string':
      if (typeof value !== 'string') return [`${path}: expected a string`];
      if (schema.enum !== undefined && !schema.enum.includes(value)) {
        return [`${path}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
      }
      if (schema.nonEmpty === true && value === '') return [`${path}: empty`];
      return [];
    case 'boolean':
      if (value === null && schema.nullable === true) return [];
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
    case 'array': {
      if (!Array.isArray(value)) return [`${path}: expected an array`];
      const errors = value.flatMap((item, i) => validate(schema.items, item, `${path}[${i}]`));
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        errors.push(`${path}: fewer than ${schema.minItems} items`);
      }
      return errors;
    }
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        return [`${path}: expected an object`];
      }
      const record = value as Record<string, unknown>;
      return Object.entries(schema.properties).flatMap(([key, sub]) =>
        record[key] === undefined
          ? schema.optional?.includes(key) === true
            ? []
            : [`${path}.${key}: missing`]
          : validate(sub, record[key], `${path}.${key}`),
      );
    }
  }
}

const count: Schema = { type: 'number', min: 0, integer: true };
const positive: Schema = { type: 'number', min: 0 };
const nullablePositive: Schema = { type: 'number', min: 0, nullable: true };
const fraction: Schema = { type: 'number', min: 0, max: 1 };
const nullableFraction: Schema = { type: 'number', min: 0, max: 1, nullable: true };
const text: Schema = { type: 'string', nonEmpty: true };

const sampleSchema: Schema = {
  type: 'object',
  properties: {
    handshakesPerSec: positive,
    resumedFraction: fraction,
    p50Ms: nullablePositive,
    p99Ms: nullablePositive,
    serverCpuUsPerHandshake: positive,
    errors: count,
    clientBound: { type: 'boolean' },
    sTime: {
      type: 'object',
      properties: {
        connections: count,
        resumed: count,
        full: count,
        connectionsPerUserSec: positive,
        realSeconds: count,
        wallSeconds: positive,
      },
    },
  },
  optional: ['sTime', 'clientBound'],
};

const caseSchema: Schema = {
  type: 'object',
  properties: {
    id: text,
    client: { type: 'string', enum: ['node', 's_time'] },
    config: text,
    server: text,
    store: text,
    label: text,
    tls: { type: 'string', enum: ['1.2', '1.3'] },
    mode: { type: 'string', enum: ['resumed', 'full'] },
    ticketReuse: { type: 'boolean' },
    handshakesPerSec: positive,
    p50Ms: nullablePositive,
    p99Ms: nullablePositive,
    resumedFraction: fraction,
    clientP50Ms: nullablePositive,
    serverCpuUsPerHandshake: positive,
    clientCpuUsPerHandshake: nullablePositive,
    serverElu: nullableFraction,
    clientElu: nullableFraction,
    serverCpuShare: nullablePositive,
    clientCpuShare: nullablePositive,
    clients: { type: 'number', min: 1, integer: true },
    clientBound: { type: 'boolean' },
    errors: { type: 'number', min: 0 },
    rounds: { type: 'number', min: 1, integer: true },
    spread: positive,
    minHandshakesPerSec: positive,
    maxHandshakesPerSec: positive,
    samples: { type: 'array', items: sampleSchema, minItems: 1 },
  },
  optional: ['serverCpuShare', 'clientCpuShare', 'clients', 'clientBound'],
};

const ratioSchema: Schema = {
  type: 'object',
  properties: {
    name: text,
    numerator: text,
    denominator: text,
    handshakesPerSec: positive,
    serverCapacity: positive,
    target: nullablePositive,
    met: { type: 'boolean', nullable: true },
    capacityMet: { type: 'boolean', nullable: true },
    note: { type: 'string' },
  },
};

/** The schema of {@link BenchResult} (see types.ts). */
export const benchResultSchema: Schema = {
  type: 'object',
  properties: {
    meta: {
      type: 'object',
      properties: {
        date: text,
        command: text,
        node: text,
        nodeOpenssl: text,
        opensslCli: text,
        cpus: { type: 'number', min: 1, integer: true },
        cpuModel: { type: 'string' },
        platform: text,
        rounds: { type: 'number', min: 1, integer: true },
        durationS: positive,
        warmupS: positive,
        sTimeSeconds: positive,
        concurrency: { type: 'number', min: 1, integer: true },
        clients: { type: 'number', min: 1, integer: true },
        sTimeProcesses: { type: 'number', min: 1, integer: true },
        cert: text,
        loadAverageBefore: positive,
        loadAverageAfter: positive,
        elapsedS: positive,
      },
      optional: ['clients', 'sTimeProcesses', 'cert'],
    },
    notes: { type: 'array', items: { type: 'string' } },
    cases: { type: 'array', items: caseSchema, minItems: 1 },
    ratios: { type: 'array', items: ratioSchema },
  },
};
