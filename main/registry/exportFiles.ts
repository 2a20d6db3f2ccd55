/**
 * Turns registry rows into the files of a run export: CSV for tables that
 * spreadsheets and pandas read, JSON where structure matters.
 */

/** A cell value as it may come out of the database. */
export type CsvCell = string | number | boolean | null | undefined;

/**
 * One CSV field per RFC 4180: quoted when it holds a comma, a quote or a line
 * break; null and undefined become an empty field.
 */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';

  const text = String(value);
  if (!/[",\r\n]/.test(text)) return text;
  return `"${text.replace(/"/g, '""')}"`;
}

/**
 * A whole CSV document: a header line, then one line per row, each row's
 * cells taken from `columns` in order.
 *
 * @param columns Column names, used as the header and as row keys.
 * @param rows Objects holding at least those keys.
 * @returns The text, ending with a newline.
 */
export function toCsv<T extends object>(
  columns: readonly (keyof T & string)[],
  rows: T[],
): string {
  const lines = [columns.map(csvField).join(',')];
  for (const row of rows) {
    lines.push(columns.map((c) => csvField(row[c] as CsvCell)).join(','));
  }
  return `${lines.join('\n')}\n`;
}
