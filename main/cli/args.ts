/**
 * A small command-line parser: `--name value`, `--name=value`, `--flag` and
 * `--no-flag`. Options are declared up front so an unknown or misspelt one is
 * refused before any work starts, with the list of what is accepted.
 */

export type OptionKind = 'string' | 'number' | 'boolean' | 'list';

export interface OptionSpec {
  kind: OptionKind;
  help: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

export interface ParsedArgs {
  positional: string[];
  options: Record<string, string | number | boolean | number[] | undefined>;
}

/** An error in what the user typed; the CLI prints it and exits with code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Parses argv against the declared options; throws UsageError on anything unknown. */
export function parseArgs(argv: string[], specs: OptionSpecs): ParsedArgs {
  const positional: string[] = [];
  const options: ParsedArgs['options'] = {};

  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (!token.startsWith('--')) {
      positional.push(token);
      continue;
    }

    const [rawName, inlineValue] = splitInline(token.slice(2));
    const negated = rawName.startsWith('no-') && specs[rawName.slice(3)]?.kind === 'boolean';
    const name = negated ? rawName.slice(3) : rawName;
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new UsageError(`unknown option --${rawName}; accepted options: ${known}`);
    }

    if (spec.kind === 'boolean') {
      options[name] = negated ? false : inlineValue === undefined || inlineValue !== 'false';
      continue;
    }

    const value = inlineValue ?? argv[++i];
    if (value === undefined || (inlineValue === undefined && value.startsWith('--'))) {
      throw new UsageError(`option --${name} needs a value (${spec.help})`);
    }
    options[name] = convert(name, spec.kind, value);
  }

  return { positional, options };
}

function splitInline(body: string): [string, string | undefined] {
  const eq = body.indexOf('=');
  return eq < 0 ? [body, undefined] : [body.slice(0, eq), body.slice(eq + 1)];
}

function convert(name: string, kind: OptionKind, value: string): string | number | number[] {
  if (kind === 'string') return value;

  if (kind === 'number') return toNumber(name, value);

  return value.split(',').filter((part) => part.trim() !== '').map((part) => toNumber(name, part));
}

function toNumber(name: string, text: string): number {
  const value = Number(text.trim());
  if (!Number.isFinite(value)) {
    throw new UsageError(`option --${name} expects a number, got "${text}"`);
  }
  return value;
}

/** The help lines of a set of options, aligned for a terminal. */
export function formatOptions(specs: OptionSpecs): string {
  const width = Math.max(...Object.keys(specs).map((k) => k.length)) + 4;
  return Object.entries(specs)
    .map(([name, spec]) => `  --${name.padEnd(width)}${spec.help}`)
    .join('\n');
}
