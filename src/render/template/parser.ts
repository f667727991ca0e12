// Recursive-descent parser from tokens to the AST in ast.ts, following Go's
// text/template grammar. It rejects at parse time what Go rejects at parse
// time (unknown functions, undefined variables, unbalanced control
// structures, `break` outside `range`), so those errors carry a line number
// even for code that would never run. Nesting is bounded so that a hostile
// template cannot exhaust the stack of this parser or of the evaluator.
import type { Command, Node, Operand, ParsedTemplate, Pipeline } from './ast';
import { TemplateFailure } from './errors';
import { lex, type Token, type TokenKind } from './lexer';
import type { Loc, TemplateSource } from './source';

export interface ParseOptions {
  /** Names callable from templates; anything else is "function not defined". */
  functions: ReadonlySet<string>;
  /** Deepest nesting of control structures and parentheses (default 100). */
  maxNesting?: number;
}

type Stop = { kind: 'end' | 'eof'; loc: Loc } | { kind: 'else'; loc: Loc; chain?: 'if' | 'with' };

export function parse(source: TemplateSource, opts: ParseOptions): ParsedTemplate {
  return new Parser(source, lex(source), opts).parseFile();
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private nesting = 0;
  private rangeDepth = 0;
  private readonly defines = new Map<string, Node[]>();
  private readonly maxNesting: number;

  constructor(
    private readonly source: TemplateSource,
    private readonly tokens: Token[],
    private readonly opts: ParseOptions,
  ) {
    this.maxNesting = opts.maxNesting ?? 100;
  }

  parseFile(): ParsedTemplate {
    const { nodes, stop } = this.parseList(true);
    if (stop.kind !== 'eof') this.fail(stop.loc, `unexpected {{${stop.kind}}}`);
    return { root: nodes, defines: this.defines };
  }

  // ---- token helpers ----

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }
  private loc(t: Token): Loc {
    return { source: this.source, pos: t.pos };
  }
  private fail(loc: Loc, message: string): never {
    throw TemplateFailure.at(loc, message);
  }
  private expect(kind: TokenKind, context: string): Token {
    const t = this.next();
    if (t.kind !== kind) this.fail(this.loc(t), `unexpected ${describe(t)} in ${context}`);
    return t;
  }
  private enter(loc: Loc): void {
    if (++this.nesting > this.maxNesting) this.fail(loc, `template nesting exceeds ${this.maxNesting} levels`);
  }
  private leave(): void {
    this.nesting--;
  }

  // ---- lists and control structures ----

  /** Parses text and actions up to `{{end}}`, `{{else}}` or the end of input. */
  private parseList(topLevel: boolean): { nodes: Node[]; stop: Stop } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'eof') return { nodes, stop: { kind: 'eof', loc: this.loc(t) } };
      if (t.kind === 'text') {
        this.next();
        nodes.push({ type: 'text', loc: this.loc(t), text: t.val });
        continue;
      }
      this.expect('leftDelim', 'template');
      const k = this.peek();
      if (k.kind !== 'keyword') {
        const pipe = this.parsePipeline('command', 'rightDelim', true);
        this.expect('rightDelim', 'command');
        nodes.push({ type: 'action', loc: pipe.loc, pipe });
        continue;
      }
      const loc = this.loc(k);
      switch (k.val) {
        case 'end':
          this.next();
          this.expect('rightDelim', 'end');
          return { nodes, stop: { kind: 'end', loc } };
        case 'else': {
          this.next();
          const after = this.peek();
          if (after.kind === 'keyword' && (after.val === 'if' || after.val === 'with')) {
            // "{{else if x}}" is "{{else}}{{if x}}...{{end}}" sharing the outer {{end}}.
            return { nodes, stop: { kind: 'else', loc, chain: after.val } };
          }
          this.expect('rightDelim', 'else');
          return { nodes, stop: { kind: 'else', loc } };
        }
        case 'if':
        case 'with':
        case 'range':
          nodes.push(this.parseControl(k.val));
          break;
        case 'define':
          if (!topLevel) this.fail(loc, 'define is only allowed at the top level of a file');
          this.parseDefine();
          break;
        case 'template':
          nodes.push(this.parseTemplateCall());
          break;
        case 'block':
          nodes.push(this.parseBlock());
          break;
        case 'break':
        case 'continue':
          this.next();
          if (this.rangeDepth === 0) this.fail(loc, `{{${k.val}}} outside {{range}}`);
          this.expect('rightDelim', k.val);
          nodes.push({ type: k.val, loc });
          break;
        default:
          this.fail(loc, `unexpected keyword ${k.val}`);
      }
    }
  }

  /** `{{if|with|range pipeline}} list [{{else}} list] {{end}}`; the keyword is the next token. */
  private parseControl(kind: 'if' | 'with' | 'range'): Node {
    const loc = this.loc(this.next());
    this.enter(loc);
    const outerVars = this.vars.length;
    const pipe = this.parsePipeline(kind, 'rightDelim', true);
    this.expect('rightDelim', kind);
    const bodyVars = this.vars.length;
    if (kind === 'range') this.rangeDepth++;
    const { nodes: list, stop } = this.parseList(false);
    if (kind === 'range') this.rangeDepth--;
    // Variables declared inside the body end with it.
    this.vars.length = bodyVars;
    let elseList: Node[] | undefined;
    if (stop.kind === 'eof') this.fail(loc, `unclosed {{${kind}}}: missing {{end}}`);
    if (stop.kind === 'else') {
      if (stop.chain !== undefined) {
        if (stop.chain !== kind) this.fail(stop.loc, `{{else ${stop.chain}}} is not allowed in {{${kind}}}`);
        elseList = [this.parseControl(stop.chain)];
      } else {
        const rest = this.parseList(false);
        if (rest.stop.kind !== 'end') this.fail(rest.stop.kind === 'eof' ? loc : rest.stop.loc, rest.stop.kind === 'eof' ? `unclosed {{${kind}}}: missing {{end}}` : `expected {{end}}, found {{else}}`);
        elseList = rest.nodes;
      }
    }
    this.vars.length = outerVars;
    this.leave();
    return { type: kind, loc, pipe, list, elseList };
  }

  private parseDefine(): void {
    const loc = this.loc(this.next());
    const name = this.expect('string', 'define').val;
    this.expect('rightDelim', 'define');
    this.defines.set(name, this.parseBody(loc, 'define'));
  }

  /** The body of a define/block: own variable scope (only `$`), not inside any range. */
  private parseBody(loc: Loc, kind: string): Node[] {
    const savedVars = this.vars;
    const savedRange = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    this.enter(loc);
    const { nodes, stop } = this.parseList(false);
    if (stop.kind !== 'end') this.fail(stop.kind === 'eof' ? loc : stop.loc, stop.kind === 'eof' ? `unclosed {{${kind}}}: missing {{end}}` : `unexpected {{else}} in ${kind}`);
    this.leave();
    this.vars = savedVars;
    this.rangeDepth = savedRange;
    return nodes;
  }

  private parseTemplateCall(): Node {
    const loc = this.loc(this.next());
    const name = this.expect('string', 'template clause').val;
    let pipe: Pipeline | undefined;
    if (this.peek().kind !== 'rightDelim') pipe = this.parsePipeline('template clause', 'rightDelim', true); // Go allows `{{template "x" $v := .}}`; $v outlives the call
    this.expect('rightDelim', 'template clause');
    return { type: 'template', loc, name, pipe };
  }

  /** `{{block "name" pipeline}} default {{end}}`: define (unless defined elsewhere) and call. */
  private parseBlock(): Node {
    const loc = this.loc(this.next());
    const name = this.expect('string', 'block clause').val;
    const pipe = this.parsePipeline('block clause', 'rightDelim', true);
    this.expect('rightDelim', 'block clause');
    const body = this.parseBody(loc, 'block');
    if (!this.defines.has(name)) this.defines.set(name, body);
    return { type: 'template', loc, name, pipe };
  }

  // ---- pipelines ----

  private parsePipeline(context: string, end: 'rightDelim' | 'rightParen', allowDecl: boolean): Pipeline {
    const loc = this.loc(this.peek());
    const decl: string[] = [];
    let isAssign = false;
    const first = this.peek();
    if (allowDecl && first.kind === 'variable') {
      const after = this.peek(1);
      if (after.kind === 'declare' || after.kind === 'assign') {
        this.next();
        this.next();
        decl.push(first.val);
        isAssign = after.kind === 'assign';
      } else if (after.kind === 'comma') {
        if (context !== 'range') this.fail(this.loc(after), `too many declarations in ${context}`);
        this.next();
        this.next();
        const second = this.expect('variable', 'range declaration');
        const op = this.next();
        if (op.kind !== 'declare' && op.kind !== 'assign') this.fail(this.loc(op), `unexpected ${describe(op)} in range declaration`);
        decl.push(first.val, second.val);
        isAssign = op.kind === 'assign';
      }
    }
    if (isAssign) {
      for (const name of decl) if (!this.vars.includes(name)) this.fail(loc, `undefined variable "${name}"`);
    }

    const cmds: Command[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === end || t.kind === 'rightDelim' || t.kind === 'eof') {
        if (cmds.length === 0) this.fail(this.loc(t), `missing value for ${context}`);
        break;
      }
      cmds.push(this.parseCommand(context));
      const sep = this.peek();
      if (sep.kind === 'pipe') {
        this.next();
        const following = this.peek();
        if (following.kind === end || following.kind === 'rightDelim') this.fail(this.loc(following), 'missing command after |');
        continue;
      }
      if (sep.kind !== end) this.fail(this.loc(sep), `unexpected ${describe(sep)} in ${context}`);
    }
    cmds.forEach((cmd, index) => {
      const op = cmd.args[0] as Operand;
      if (index > 0 && (op.type === 'literal' || op.type === 'dot')) {
        this.fail(op.loc, `non executable command in pipeline stage ${index + 1}`);
      }
    });
    // Declared variables are visible after the pipeline (for range: in its body).
    if (!isAssign) this.vars.push(...decl);
    return { loc, decl, isAssign, cmds };
  }

  private parseCommand(context: string): Command {
    const loc = this.loc(this.peek());
    const args: Operand[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === 'pipe' || t.kind === 'rightDelim' || t.kind === 'rightParen' || t.kind === 'eof') break;
      if (args.length > 0 && !t.spaceBefore) this.fail(this.loc(t), `unexpected ${describe(t)} in operand`);
      args.push(this.parseOperand(context));
    }
    if (args.length === 0) this.fail(loc, `missing value for ${context}`);
    return { loc, args };
  }

  private parseOperand(context: string): Operand {
    const t = this.next();
    const loc = this.loc(t);
    let node: Operand;
    switch (t.kind) {
      case 'field':
        node = { type: 'field', loc, chain: [t.val] };
        break;
      case 'variable':
        if (!this.vars.includes(t.val)) this.fail(loc, `undefined variable "${t.val}"`);
        node = { type: 'variable', loc, name: t.val, chain: [] };
        break;
      case 'dot':
        node = { type: 'dot', loc };
        break;
      case 'identifier':
        if (!this.opts.functions.has(t.val)) this.fail(loc, `function "${t.val}" not defined`);
        node = { type: 'function', loc, name: t.val };
        break;
      case 'string':
        node = { type: 'literal', loc, value: t.val };
        break;
      case 'number':
        node = { type: 'literal', loc, value: t.num ?? 0 };
        break;
      case 'bool':
        node = { type: 'literal', loc, value: t.val === 'true' };
        break;
      case 'nil':
        node = { type: 'literal', loc, value: null };
        break;
      case 'leftParen': {
        this.enter(loc);
        const pipe = this.parsePipeline('parenthesized pipeline', 'rightParen', false);
        this.expect('rightParen', 'parenthesized pipeline');
        this.leave();
        node = { type: 'pipe', loc, pipe };
        break;
      }
      default:
        return this.fail(loc, `unexpected ${describe(t)} in ${context}`);
    }
    // A field chain glued to the operand: .a.b, $x.a, (pipeline).a
    const chain: string[] = [];
    while (this.peek().kind === 'field' && !this.peek().spaceBefore) chain.push(this.next().val);
    if (chain.length === 0) return node;
    switch (node.type) {
      case 'field':
      case 'variable':
        node.chain.push(...chain);
        return node;
      case 'function':
      case 'pipe':
        return { type: 'chain', loc, target: node, chain };
      default:
        return this.fail(loc, `unexpected . after term ${describe(t)}`);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'EOF';
    case 'rightDelim':
      return '"}}"';
    case 'field':
      return JSON.stringify(`.${t.val}`);
    case 'keyword':
      return `keyword ${JSON.stringify(t.val)}`;
    default:
      return JSON.stringify(t.val);
  }
}
