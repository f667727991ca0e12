// A template's text plus a lazily built line table, so that every node can
// carry just an offset and errors still report line and column.

export class TemplateSource {
  private lineStarts: number[] | undefined;

  constructor(
    /** What errors call this template: the file name under templates/. */
    readonly name: string,
    readonly text: string,
  ) {}

  /** 1-based line and column of a character offset. */
  position(pos: number): { line: number; column: number } {
    const starts = this.lineStarts ?? (this.lineStarts = computeLineStarts(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= pos) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: pos - (starts[lo] as number) + 1 };
  }
}

function computeLineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Where a node came from: enough to point an error at file, line and column. */
export interface Loc {
  source: TemplateSource;
  pos: number;
}
