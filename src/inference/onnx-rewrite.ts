/**
 * Load-time ONNX rewrite that makes ZipMap classifiers usable in onnxruntime-web.
 *
 * ORT-web cannot read non-tensor values, so `seq(map(...))` outputs produced by ZipMap (the
 * skl2onnx/onnxmltools default) make `session.run(feeds)` fail. ZipMap only reshapes a float
 * [N, nClasses] tensor into per-row dictionaries, so nothing is lost by exposing that tensor
 * and dropping the ZipMap: the class labels travel alongside in `ZipMapRewrite.classLabels`.
 * Only the graph's top-level fields are touched; initializers are copied as byte slices.
 */
import type { RawField } from './protobuf.js';
import {
  ProtobufError,
  WireType,
  concatBytes,
  encodeLenField,
  encodeStringField,
  encodeVarintField,
  lenHeader,
  parseMessage,
  repeatedVarints,
  stringField,
  stringFields,
} from './protobuf.js';

export interface ZipMapRewrite {
  /** name of the ZipMap output the manifest may refer to, e.g. "output_probability" */
  zipMapOutput: string;
  /** name of the float tensor that fed ZipMap, now a graph output: [N, nClasses] */
  probabilities: string;
  /** ZipMap's class labels (classlabels_strings or classlabels_int64s as strings), in column order */
  classLabels: string[];
}
export interface RewriteResult {
  bytes: Uint8Array;
  zipMaps: ZipMapRewrite[];
}

const MODEL_GRAPH = 7;
const GRAPH = { node: 1, output: 12, valueInfo: 13 } as const;
const NODE = { input: 1, output: 2, opType: 4, attribute: 5, domain: 7 } as const;
const ATTR = { name: 1, ints: 8, strings: 9 } as const;
const TENSOR_FLOAT = 1;

/** Returns the input bytes unchanged (same object) when the model has no ZipMap. Throws Error with a clear message on malformed protobuf. */
export function exposeZipMapInputs(model: Uint8Array): RewriteResult {
  try {
    return rewrite(model);
  } catch (err) {
    if (err instanceof ProtobufError) throw new Error(`not a valid ONNX model: ${err.message}`, { cause: err });
    throw err;
  }
}

function rewrite(model: Uint8Array): RewriteResult {
  const graphs = parseMessage(model).filter((f) => f.field === MODEL_GRAPH);
  const graph = graphs[0];
  // Random bytes often parse as *some* protobuf; requiring a graph is what rejects them.
  if (!graph || graph.wireType !== WireType.LEN) throw new Error('not a valid ONNX model: ModelProto has no graph (field 7)');
  // Several occurrences would be merged by protobuf; too exotic to rewrite correctly, so refuse.
  if (graphs.length > 1) throw new Error('not a valid ONNX model: ModelProto has more than one graph field');

  const graphFields = parseMessage(graph.bytes);
  const nodes = graphFields.filter((f) => f.field === GRAPH.node).map((raw) => ({ raw, fields: parseMessage(raw.bytes) }));
  const outputNames = new Set(graphFields.filter((f) => f.field === GRAPH.output).map(valueInfoName));
  const consumed = new Set(nodes.flatMap((n) => stringFields(n.fields, NODE.input)));

  const zipMaps: ZipMapRewrite[] = [];
  const removedNodes = new Set<RawField>();
  for (const node of nodes) {
    if (stringField(node.fields, NODE.opType) !== 'ZipMap' || stringField(node.fields, NODE.domain) !== 'ai.onnx.ml') continue;
    const [probabilities] = stringFields(node.fields, NODE.input);
    const [zipMapOutput] = stringFields(node.fields, NODE.output);
    if (!probabilities || !zipMapOutput) throw new Error('not a valid ONNX model: ZipMap node without input or output');
    // A map consumed downstream can't be replaced by a tensor; leave that graph as the exporter made it.
    if (consumed.has(zipMapOutput)) continue;
    zipMaps.push({ zipMapOutput, probabilities, classLabels: classLabels(node.fields) });
    removedNodes.add(node.raw);
  }
  if (zipMaps.length === 0) return { bytes: model, zipMaps };

  // The exposed tensor takes the removed output's slot, so output order stays label-then-probabilities.
  const replacements = new Map<string, Uint8Array>();
  const dropped = new Set<string>(); // names whose output/value_info entries are removed
  const exposed = new Set(outputNames);
  const pending: Uint8Array[] = [];
  for (const z of zipMaps) {
    dropped.add(z.zipMapOutput);
    if (exposed.has(z.probabilities)) continue;
    exposed.add(z.probabilities);
    dropped.add(z.probabilities); // ONNX keeps graph outputs out of value_info
    const info = encodeLenField(GRAPH.output, floatMatrixInfo(z.probabilities, z.classLabels.length));
    if (outputNames.has(z.zipMapOutput) && !replacements.has(z.zipMapOutput)) replacements.set(z.zipMapOutput, info);
    else pending.push(info);
  }

  const parts: Uint8Array[] = [];
  for (const f of graphFields) {
    if (f.field === GRAPH.node && removedNodes.has(f)) continue;
    const name = f.field === GRAPH.output || f.field === GRAPH.valueInfo ? valueInfoName(f) : undefined;
    if (f.field === GRAPH.output && name !== undefined && dropped.has(name)) {
      const replacement = replacements.get(name);
      if (replacement) parts.push(replacement);
      replacements.delete(name); // a duplicated output entry must not duplicate the replacement
      continue;
    }
    if (f.field === GRAPH.valueInfo && name !== undefined && dropped.has(name)) continue;
    parts.push(graph.bytes.subarray(f.start, f.end));
  }
  // Repeated fields keep their relative order wherever they sit, so appending is safe.
  parts.push(...pending);

  const graphLength = parts.reduce((n, p) => n + p.length, 0);
  const bytes = concatBytes([
    model.subarray(0, graph.start),
    lenHeader(MODEL_GRAPH, graphLength),
    ...parts,
    model.subarray(graph.end),
  ]);
  return { bytes, zipMaps };
}

function valueInfoName(f: RawField): string {
  if (f.wireType !== WireType.LEN) throw new ProtobufError(`graph field ${f.field} is not a message`, f.start);
  return stringField(parseMessage(f.bytes), 1) ?? '';
}

function classLabels(nodeFields: readonly RawField[]): string[] {
  for (const a of nodeFields.filter((f) => f.field === NODE.attribute)) {
    const attr = parseMessage(a.bytes);
    const name = stringField(attr, ATTR.name);
    if (name === 'classlabels_strings') return stringFields(attr, ATTR.strings);
    // int64 labels are two's complement on the wire: -1 arrives as 2^64-1.
    if (name === 'classlabels_int64s') return repeatedVarints(attr, ATTR.ints).map((v) => BigInt.asIntN(64, v).toString());
  }
  throw new Error('not a valid ONNX model: ZipMap node has no classlabels_strings or classlabels_int64s attribute');
}

/** ValueInfoProto for tensor(float)[?, nClasses]; the batch dim is left unnamed like skl2onnx's own outputs. */
function floatMatrixInfo(name: string, nClasses: number): Uint8Array {
  const unknownDim = new Uint8Array(0);
  const classDim = encodeVarintField(1, nClasses); // Dimension.dim_value
  const shape = concatBytes([encodeLenField(1, unknownDim), encodeLenField(1, classDim)]); // TensorShapeProto.dim
  const tensorType = concatBytes([encodeVarintField(1, TENSOR_FLOAT), encodeLenField(2, shape)]);
  const type = encodeLenField(1, tensorType); // TypeProto.tensor_type
  return concatBytes([encodeStringField(1, name), encodeLenField(2, type)]);
}
