// Executes parsed templates: walks nodes, evaluates pipelines and calls
// functions, with Go text/template semantics (variables scoped to control
// structures, `$` as the template's data, pipelines passing their value as
// the last argument, lazy and/or). Every step is charged to the budget and
// every failure leaves here as a TemplateFailure with a location.
import type { Command, Node, Operand, Pipeline } from './ast';
import { FunctionError, LimitExceeded, TemplateFailure } from './errors';
import { FUNCTION_NAMES, FUNCTIONS, type CallContext } from './functions';
import { Output, type Budget } from './limits';
import { parse } from './parser';
import { TemplateSource, type Loc } from './source';
import { getOwn, isMap, isNil, isTrue, printValue, sortedKeys, typeName } from './values';

/** Templates visible to `template` and `include`, by name. */
export type TemplateLibrary = ReadonlyMap<string, Node[]>;

/** Marks a command that received no piped value (distinct from a piped nil). */
const NO_VALUE: unique symbol = Symbol('no piped value');
type Piped = unknown;

type Signal = 'none' | 'break' | 'continue';

interface Frame {
  vars: Array<{ name: string; value: unknown }>;
  out: Output;
  /** Nesting of template/include/tpl calls. */
  depth: number;
  templates: TemplateLibrary;
  /**
   * The template was run with nil data (Go: an invalid reflect.Value, as
   * with `{{template "x"}}` or `include "x" nil`): fields of it are missing
   * values, not errors. A nil reached through a map is a nil interface,
   * and a field of that is an error, as in Go.
   */
  nilData: boolean;
}

/** Name given to text rendered by `tpl`; errors in it are reported at the tpl call. */
const TPL_NAME = '<tpl>';

export class Evaluator {
  constructor(private readonly budget: Budget) {}

  /** Runs `body` with `dot` as data, writing into `out`. Throws TemplateFailure. */
  execute(body: Node[], dot: unknown, out: Output, templates: TemplateLibrary, depth = 0): void {
    const frame: Frame = { vars: [{ name: '$', value: dot }], out, depth, templates, nilData: isNil(dot) };
    this.walk(frame, body, dot);
  }

  // ---- nodes ----

  private walk(frame: Frame, list: Node[], dot: unknown): Signal {
    for (const node of list) {
      try {
        this.budget.step();
        const signal = this.walkNode(frame, node, dot);
        if (signal !== 'none') return signal;
      } catch (e) {
        throw locate(e, node.loc);
      }
    }
    return 'none';
  }

  private walkNode(frame: Frame, node: Node, dot: unknown): Signal {
    switch (node.type) {
      case 'text':
        frame.out.write(node.text);
        return 'none';
      case 'action': {
        const value = this.evalPipeline(frame, dot, node.pipe);
        if (node.pipe.decl.length === 0) frame.out.write(printValue(value, this.budget));
        return 'none';
      }
      case 'if':
      case 'with': {
        const mark = frame.vars.length;
        const value = this.evalPipeline(frame, dot, node.pipe);
        let signal: Signal = 'none';
        if (isTrue(value)) signal = this.walk(frame, node.list, node.type === 'with' ? value : dot);
        else if (node.elseList) signal = this.walk(frame, node.elseList, dot);
        frame.vars.length = mark;
        return signal;
      }
      case 'range':
        return this.walkRange(frame, node, dot);
      case 'template': {
        const data = node.pipe ? this.evalPipeline(frame, dot, node.pipe) : null;
        this.callTemplate(frame, node.name, data, frame.out);
        return 'none';
      }
      case 'break':
      case 'continue':
        return node.type;
    }
  }

  private walkRange(frame: Frame, node: { pipe: Pipeline; list: Node[]; elseList?: Node[] }, dot: unknown): Signal {
    const outer = frame.vars.length;
    const value = this.evalCommands(frame, dot, node.pipe);
    const { decl, isAssign } = node.pipe;
    if (!isAssign) for (const name of decl) frame.vars.push({ name, value });
    const mark = frame.vars.length;
    const bind = (slot: number, v: unknown): void => {
      const name = decl[slot] as string;
      if (isAssign) this.setVar(frame, name, v);
      else (frame.vars[mark - decl.length + slot] as { value: unknown }).value = v;
    };
    const iterate = (key: unknown, elem: unknown): Signal => {
      this.budget.step();
      frame.vars.length = mark;
      if (decl.length === 1) bind(0, elem);
      if (decl.length === 2) {
        bind(0, key);
        bind(1, elem);
      }
      return this.walk(frame, node.list, elem);
    };

    let ran = false;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        ran = true;
        if (iterate(i, value[i]) === 'break') break;
      }
    } else if (isMap(value)) {
      const keys = sortedKeys(value);
      this.budget.step(keys.length);
      for (const key of keys) {
        ran = true;
        if (iterate(key, getOwn(value, key)) === 'break') break;
      }
    } else if (typeof value === 'number' && Number.isInteger(value)) {
      if (decl.length > 1) throw new FunctionError(`can't use ${decl.join(', ')} to iterate over ${value}`);
      for (let i = 0; i < value; i++) {
        ran = true;
        if (iterate(i, i) === 'break') break;
      }
    } else if (!isNil(value)) {
      // The type, not the value: error messages end up in reports, values may be secrets.
      throw new FunctionError(`range can't iterate over a value of type ${typeName(value)}`);
    }
    frame.vars.length = mark;
    let signal: Signal = 'none';
    if (!ran && node.elseList) signal = this.walk(frame, node.elseList, dot);
    frame.vars.length = outer;
    return signal;
  }

  private callTemplate(frame: Frame, name: string, data: unknown, out: Output): void {
    const body = frame.templates.get(name);
    if (!body) throw new FunctionError(`template "${name}" not defined`);
    this.checkDepth(frame, `"${name}"`);
    this.execute(body, data, out, frame.templates, frame.depth + 1);
  }

  private checkDepth(frame: Frame, what: string): void {
    const max = this.budget.limits.maxTemplateDepth;
    if (frame.depth + 1 > max) throw new LimitExceeded(`template calls nested deeper than ${max} levels calling ${what} (endless recursion?)`);
  }

  // ---- pipelines and commands ----

  private evalPipeline(frame: Frame, dot: unknown, pipe: Pipeline): unknown {
    const value = this.evalCommands(frame, dot, pipe);
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(frame, name, value);
      else frame.vars.push({ name, value });
    }
    return value;
  }

  private evalCommands(frame: Frame, dot: unknown, pipe: Pipeline): unknown {
    let value: Piped = NO_VALUE;
    for (const cmd of pipe.cmds) value = this.evalCommand(frame, dot, cmd, value);
    return value;
  }

  private evalCommand(frame: Frame, dot: unknown, cmd: Command, final: Piped): unknown {
    const first = cmd.args[0] as Operand;
    if (first.type === 'function') return this.callFunction(frame, dot, first, cmd.args.slice(1), final);
    if (cmd.args.length > 1 || final !== NO_VALUE) {
      throw TemplateFailure.at(first.loc, `can't give argument to non-function ${describe(first)}`);
    }
    if (first.type === 'literal' && first.value === null) throw TemplateFailure.at(first.loc, 'nil is not a command');
    return this.evalArg(frame, dot, first);
  }

  private evalArg(frame: Frame, dot: unknown, op: Operand): unknown {
    switch (op.type) {
      case 'field':
        if (frame.nilData && isNil(dot)) return null;
        return this.fieldChain(dot, op.chain, op);
      case 'variable':
        if (frame.nilData && op.name === '$' && op.chain.length > 0) return null;
        return this.fieldChain(this.lookupVar(frame, op.name, op.loc), op.chain, op);
      case 'dot':
        return dot;
      case 'function':
        return this.callFunction(frame, dot, op, [], NO_VALUE);
      case 'chain': {
        const target = this.evalArg(frame, dot, op.target);
        if (frame.nilData && isNil(target) && refersToData(op.target)) return null;
        return this.fieldChain(target, op.chain, op);
      }
      case 'pipe': {
        const mark = frame.vars.length;
        const value = this.evalPipeline(frame, dot, op.pipe);
        frame.vars.length = mark;
        return value;
      }
      case 'literal':
        return op.value;
    }
  }

  private fieldChain(receiver: unknown, chain: string[], op: Operand): unknown {
    let v = receiver;
    for (const name of chain) {
      if (isMap(v)) v = getOwn(v, name);
      else if (isNil(v)) throw TemplateFailure.at(op.loc, `at <${describe(op)}>: nil pointer evaluating interface {}.${name}`);
      else throw TemplateFailure.at(op.loc, `at <${describe(op)}>: can't evaluate field ${name} in type ${typeName(v)}`);
    }
    return v;
  }

  private callFunction(frame: Frame, dot: unknown, op: Extract<Operand, { type: 'function' }>, argNodes: Operand[], final: Piped): unknown {
    const name = op.name;
    const argCount = argNodes.length + (final === NO_VALUE ? 0 : 1);
    const fn = FUNCTIONS.get(name);
    if (!fn) throw TemplateFailure.at(op.loc, `function "${name}" not defined`);
    if (argCount < fn.min || argCount > fn.max) {
      const want = fn.min === fn.max ? `${fn.min}` : fn.max === Infinity ? `at least ${fn.min}` : `${fn.min} to ${fn.max}`;
      throw TemplateFailure.at(op.loc, `wrong number of args for ${name}: want ${want} got ${argCount}`);
    }
    this.budget.step();
    if (name === 'and' || name === 'or') {
      // Short-circuit like Go 1.18+: stop at the first false (and) / true (or) argument.
      let v: unknown = null;
      for (const arg of argNodes) {
        v = this.evalArg(frame, dot, arg);
        if (name === 'and' ? !isTrue(v) : isTrue(v)) return v;
      }
      return final === NO_VALUE ? v : final;
    }
    const args = argNodes.map((arg) => this.evalArg(frame, dot, arg));
    if (final !== NO_VALUE) args.push(final);
    const ctx: CallContext = {
      budget: this.budget,
      include: (template, data) => {
        const out = new Output(this.budget, false);
        this.callTemplate(frame, template, data, out);
        return out.text();
      },
      tpl: (text, data) => this.tpl(frame, text, data),
    };
    try {
      const result = fn.call(args, ctx);
      // include/tpl text was already counted as it was written.
      const counted = name === 'include' || name === 'tpl';
      return typeof result === 'string' && !counted ? this.budget.produce(result) : result;
    } catch (e) {
      if (e instanceof FunctionError) throw TemplateFailure.at(op.loc, e.bare ? e.message : `error calling ${name}: ${e.message}`);
      throw e;
    }
  }

  /** Helm's tpl: renders a string as a template, seeing the chart's named templates. */
  private tpl(frame: Frame, text: string, data: unknown): string {
    this.budget.step(Math.ceil(text.length / 16) + 1); // parsing costs in proportion to the text
    this.checkDepth(frame, 'tpl');
    const source = new TemplateSource(TPL_NAME, text);
    try {
      const parsed = parse(source, { functions: FUNCTION_NAMES, maxNesting: this.budget.limits.maxNesting });
      let templates = frame.templates;
      if (parsed.defines.size > 0) {
        this.budget.step(templates.size + parsed.defines.size);
        templates = new Map([...templates, ...parsed.defines]);
      }
      const out = new Output(this.budget, false);
      this.execute(parsed.root, data, out, templates, frame.depth + 1);
      return out.text();
    } catch (e) {
      if (e instanceof TemplateFailure && e.detail.template === TPL_NAME) {
        throw new FunctionError(`line ${e.detail.line}, column ${e.detail.column ?? 1} of the template text: ${e.detail.message}`);
      }
      throw e;
    }
  }

  // ---- variables ----

  private lookupVar(frame: Frame, name: string, loc: Loc): unknown {
    for (let i = frame.vars.length - 1; i >= 0; i--) {
      const v = frame.vars[i] as { name: string; value: unknown };
      if (v.name === name) return v.value;
    }
    throw TemplateFailure.at(loc, `undefined variable "${name}"`);
  }

  private setVar(frame: Frame, name: string, value: unknown): void {
    for (let i = frame.vars.length - 1; i >= 0; i--) {
      const v = frame.vars[i] as { name: string; value: unknown };
      if (v.name === name) {
        v.value = value;
        return;
      }
    }
    throw new FunctionError(`undefined variable "${name}"`, true);
  }
}

/** `.`, `$` or `(.)`: an operand that is the template's data itself. */
function refersToData(op: Operand): boolean {
  if (op.type === 'dot') return true;
  if (op.type === 'variable') return op.name === '$' && op.chain.length === 0;
  if (op.type === 'pipe' && op.pipe.cmds.length === 1 && op.pipe.decl.length === 0) {
    const args = (op.pipe.cmds[0] as Command).args;
    return args.length === 1 && refersToData(args[0] as Operand);
  }
  return false;
}

const STACK_EXHAUSTED = 'Maximum call stack size exceeded';

/** Gives an error without a location the location of the node being executed. */
function locate(e: unknown, loc: Loc): unknown {
  if (e instanceof TemplateFailure) return e;
  if (e instanceof FunctionError) return TemplateFailure.at(loc, e.message);
  // Stack exhaustion can surface as any error type thrown by whatever ran out of
  // stack (even a RegExp), so it is recognised by its message, without a regex.
  if (e instanceof Error && e.message.includes(STACK_EXHAUSTED)) return TemplateFailure.at(loc, 'templates nested too deeply (stack exhausted)');
  if (e instanceof RangeError) return TemplateFailure.at(loc, `value too large (${e.message})`);
  return e;
}

function describe(op: Operand): string {
  switch (op.type) {
    case 'field':
      return `.${op.chain.join('.')}`;
    case 'variable':
      return [op.name, ...op.chain].join('.');
    case 'dot':
      return '.';
    case 'function':
      return op.name;
    case 'chain':
      return `(${describe(op.target)}).${op.chain.join('.')}`;
    case 'pipe':
      return `(${op.pipe.cmds.map((c) => c.args.map(describe).join(' ')).join(' | ')})`;
    case 'literal':
      return op.value === null ? 'nil' : typeof op.value === 'string' ? JSON.stringify(op.value) : String(op.value);
  }
}
