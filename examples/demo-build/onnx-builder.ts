/**
 * Tiny ONNX ModelProto builder on the node's own protobuf encoder. Field numbers follow
 * onnx.proto. Only what the demo models use: nodes with attributes, float/int64 initializers,
 * tensor-typed graph inputs and outputs. Fields are emitted in the order written here, so
 * the bytes are reproducible (and must stay so: the committed demo models are compared).
 */
import {
  concatBytes,
  encodeFloatField as float,
  encodeMessageField as message,
  encodePackedFloatsField as packedFloats,
  encodePackedVarintsField as packedInts,
  encodeStringField as string,
  encodeVarintField as int,
} from '../../src/inference/protobuf.js';

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

function attrProto(a: Attr): Uint8Array[] {
  const name = string(1, a.name);
  switch (a.kind) {
    case 'f':
      return [name, float(2, a.value), int(20, AttrType.FLOAT)];
    case 'i':
      return [name, int(3, a.value), int(20, AttrType.INT)];
    case 's':
      return [name, string(4, a.value), int(20, AttrType.STRING)];
    case 'floats':
      return [name, packedFloats(7, a.value), int(20, AttrType.FLOATS)];
    case 'ints':
      return [name, packedInts(8, a.value), int(20, AttrType.INTS)];
    case 'strings':
      return [name, ...a.value.map((s) => string(9, s)), int(20, AttrType.STRINGS)];
  }
}

function nodeProto(n: OnnxNode, index: number): Uint8Array[] {
  return [
    ...n.inputs.map((i) => string(1, i)),
    ...n.outputs.map((o) => string(2, o)),
    string(3, n.name ?? `${n.opType}_${index}`),
    string(4, n.opType),
    ...(n.attrs ?? []).map((a) => message(5, attrProto(a))),
    ...(n.domain ? [string(7, n.domain)] : []),
  ];
}

function tensorProto(t: Initializer): Uint8Array[] {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (count !== t.values.length) throw new Error(`initializer ${t.name}: dims ${t.dims} but ${t.values.length} values`);
  const data = t.type === 'FLOAT' ? [int(2, ElemType.FLOAT), packedFloats(4, t.values)] : [int(2, ElemType.INT64), packedInts(7, t.values)];
  return [packedInts(1, t.dims), ...data, string(8, t.name)];
}

/** ValueInfoProto { name, type: TypeProto { tensor_type: { elem_type, shape: { dim* } } } } */
function valueInfoProto(v: ValueInfo): Uint8Array[] {
  const dims = v.dims.map((d) => message(1, [typeof d === 'number' ? int(1, d) : string(2, d)]));
  return [string(1, v.name), message(2, [message(1, [int(1, v.elemType), message(2, dims)])])];
}

export function buildModel(graph: OnnxGraph, opsets = DEFAULT_OPSETS): Uint8Array {
  const graphProto = [
    ...graph.nodes.map((n, i) => message(1, nodeProto(n, i))),
    string(2, graph.name),
    ...(graph.initializers ?? []).map((t) => message(5, tensorProto(t))),
    ...graph.inputs.map((v) => message(11, valueInfoProto(v))),
    ...graph.outputs.map((v) => message(12, valueInfoProto(v))),
  ];
  return concatBytes([
    int(1, 8), // ir_version
    string(2, 'apinode-demo-build'),
    message(7, graphProto),
    ...opsets.map((o) => message(8, [string(1, o.domain), int(2, o.version)])),
  ]);
}
