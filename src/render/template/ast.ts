// The parsed form of a template: a list of nodes (text, actions, control
// structures) whose pipelines are lists of commands over operands. Every
// node carries its location so evaluation errors can point at it.
import type { Loc } from './source';

export type Node = TextNode | ActionNode | IfNode | WithNode | RangeNode | TemplateCallNode | LoopControlNode;

export interface TextNode {
  type: 'text';
  loc: Loc;
  text: string;
}

/** `{{ pipeline }}`: prints the value unless the pipeline declares variables. */
export interface ActionNode {
  type: 'action';
  loc: Loc;
  pipe: Pipeline;
}

interface Branch {
  loc: Loc;
  pipe: Pipeline;
  list: Node[];
  elseList?: Node[];
}
export interface IfNode extends Branch {
  type: 'if';
}
export interface WithNode extends Branch {
  type: 'with';
}
export interface RangeNode extends Branch {
  type: 'range';
}

/** `{{ template "name" pipeline }}` (and the call half of `block`). */
export interface TemplateCallNode {
  type: 'template';
  loc: Loc;
  name: string;
  pipe?: Pipeline;
}

export interface LoopControlNode {
  type: 'break' | 'continue';
  loc: Loc;
}

export interface Pipeline {
  loc: Loc;
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline, e.g. ["$i", "$v"]. */
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

/** One stage of a pipeline: an operand, or a function and its arguments. */
export interface Command {
  loc: Loc;
  args: Operand[];
}

export type Operand =
  | { type: 'field'; loc: Loc; chain: string[] } // .A.B
  | { type: 'variable'; loc: Loc; name: string; chain: string[] } // $x.A.B
  | { type: 'dot'; loc: Loc }
  | { type: 'function'; loc: Loc; name: string }
  | { type: 'chain'; loc: Loc; target: Operand; chain: string[] } // (pipeline).A.B
  | { type: 'pipe'; loc: Loc; pipe: Pipeline }
  | { type: 'literal'; loc: Loc; value: string | number | boolean | null };

/** A parsed file: its body plus the templates it defines. */
export interface ParsedTemplate {
  root: Node[];
  defines: Map<string, Node[]>;
}
