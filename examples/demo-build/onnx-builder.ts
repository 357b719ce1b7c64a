/**
 * Tiny ONNX ModelProto builder on top of ProtoWriter. Field numbers follow onnx.proto.
 * Only what the demo models use: nodes with attributes, float/int64 initializers,
 * tensor-typed graph inputs and outputs.
 */
import { ProtoWriter } from './protobuf-writer.js';

export const ElemType = { FLOAT: 1, INT64: 7, STRING: 8 } as const;
export type ElemType = (typeof ElemType)[keyof typeof ElemType];

const AttrType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export type Attr =
  | { name: string; kind: 'f'; value: number }
  | { name: string; kind: 'i'; value: number }
  | { name: string; kind: 's'; value: string }
  | { name: string; kind: 'floats'; value: readonly number[] }
  | { name: string; kind: 'ints'; value: readonly number[] }
  | { name: string; kind: 'strings'; value: readonly string[] };

export const attr = {
  f: (name: string, value: number): Attr => ({ name, kind: 'f', value }),
  i: (name: string, value: number): Attr => ({ name, kind: 'i', value }),
  s: (name: string, value: string): Attr => ({ name, kind: 's', value }),
  floats: (name: string, value: readonly number[]): Attr => ({ name, kind: 'floats', value }),
  ints: (name: string, value: readonly number[]): Attr => ({ name, kind: 'ints', value }),
  strings: (name: string, value: readonly string[]): Attr => ({ name, kind: 'strings', value }),
};

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs?: Attr[];
  /** '' for the default domain, 'ai.onnx.ml' for the ML operators */
  domain?: string;
  name?: string;
}

export interface Initializer {
  name: string;
  dims: number[];
  type: 'FLOAT' | 'INT64';
  values: readonly number[];
}

export interface ValueInfo {
  name: string;
  elemType: ElemType;
  /** numbers are fixed sizes, strings are symbolic (e.g. "N") */
  dims: (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers?: Initializer[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export const DEFAULT_OPSETS = [
  { domain: '', version: 13 },
  { domain: 'ai.onnx.ml', version: 3 },
];

function writeAttr(w: ProtoWriter, a: Attr): void {
  w.string(1, a.name);
  switch (a.kind) {
    case 'f':
      w.float(2, a.value).int(20, AttrType.FLOAT);
      break;
    case 'i':
      w.int(3, a.value).int(20, AttrType.INT);
      break;
    case 's':
      w.string(4, a.value).int(20, AttrType.STRING);
      break;
    case 'floats':
      w.packedFloats(7, a.value).int(20, AttrType.FLOATS);
      break;
    case 'ints':
      w.packedInts(8, a.value).int(20, AttrType.INTS);
      break;
    case 'strings':
      for (const s of a.value) w.string(9, s);
      w.int(20, AttrType.STRINGS);
      break;
  }
}

function writeNode(w: ProtoWriter, n: OnnxNode, index: number): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name ?? `${n.opType}_${index}`);
  w.string(4, n.opType);
  for (const a of n.attrs ?? []) w.message(5, (aw) => writeAttr(aw, a));
  if (n.domain) w.string(7, n.domain);
}

function writeTensor(w: ProtoWriter, t: Initializer): void {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.values.length) throw new Error(`initializer ${t.name}: dims ${t.dims} but ${t.values.length} values`);
  w.packedInts(1, t.dims);
  if (t.type === 'FLOAT') w.int(2, ElemType.FLOAT).packedFloats(4, t.values);
  else w.int(2, ElemType.INT64).packedInts(7, t.values);
  w.string(8, t.name);
}

function writeValueInfo(w: ProtoWriter, v: ValueInfo): void {
  w.string(1, v.name);
  w.message(2, (tw) =>
    tw.message(1, (tt) => {
      tt.int(1, v.elemType);
      tt.message(2, (sw) => {
        for (const d of v.dims) sw.message(1, (dw) => (typeof d === 'number' ? dw.int(1, d) : dw.string(2, d)));
      });
    }),
  );
}

export function buildModel(graph: OnnxGraph, opsets = DEFAULT_OPSETS): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, 8); // ir_version
  w.string(2, 'apinode-demo-build');
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) => g.message(1, (nw) => writeNode(nw, n, i)));
    g.string(2, graph.name);
    for (const t of graph.initializers ?? []) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  for (const o of opsets) w.message(8, (ow) => ow.string(1, o.domain).int(2, o.version));
  return w.finish();
}
