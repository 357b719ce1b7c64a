/**
 * Hostile ONNX models for the isolation tests, built with the demo build's ONNX writer: one that
 * allocates what it is told (or what its input says), one that is slow. Shared by the Node,
 * workerd and unit tests so that they attack with the same graphs.
 */
import { buildModel, ElemType, type OnnxNode } from '../../examples/demo-build/onnx-builder.js';

const int = (name: string, value: number) => ({ name, kind: 'i' as const, value });
const io = { inputs: [{ name: 'x', elemType: ElemType.FLOAT, dims: ['N', 1] }], outputs: [{ name: 'y', elemType: ElemType.FLOAT, dims: ['N', 1] }] };

/**
 * y = x + 0 * sum(ConstantOfShape([shape])): the model allocates what `shape` says, a constant or,
 * with 'x', the smallest x of the batch (a negative x is a bad shape and fails the whole run it is
 * part of; a huge one an allocation past 4 GiB). It answers x otherwise.
 */
export function allocatingModel(shape: 'x' | number[]): Uint8Array {
  const fromX: OnnxNode[] = [
    { opType: 'ReduceMin', inputs: ['x'], outputs: ['m'], attrs: [int('keepdims', 0)] },
    { opType: 'Cast', inputs: ['m'], outputs: ['mi'], attrs: [int('to', 7)] },
    { opType: 'Reshape', inputs: ['mi', 'one'], outputs: ['shape'] },
  ];
  return buildModel({
    name: 'hostile',
    nodes: [
      ...(shape === 'x' ? fromX : []),
      { opType: 'ConstantOfShape', inputs: ['shape'], outputs: ['big'] },
      { opType: 'ReduceSum', inputs: ['big'], outputs: ['s'], attrs: [int('keepdims', 0)] },
      { opType: 'Mul', inputs: ['s', 'zero'], outputs: ['s0'] },
      { opType: 'Add', inputs: ['x', 's0'], outputs: ['y'] },
    ],
    initializers: [
      { name: 'one', dims: [1], type: 'INT64', values: [1] },
      { name: 'zero', dims: [1], type: 'FLOAT', values: [0] },
      ...(shape === 'x' ? [] : [{ name: 'shape', dims: [shape.length], type: 'INT64' as const, values: shape }]),
    ],
    ...io,
  });
}

/** m0 multiplied by itself `times` times, then y = x + 0 * sum: the work, and an answer of x. */
function squaredAndDropped(times: number): OnnxNode[] {
  const nodes: OnnxNode[] = [];
  for (let i = 0; i < times; i++) nodes.push({ opType: 'MatMul', inputs: [`m${i}`, `m${i}`], outputs: [`m${i + 1}`] });
  nodes.push(
    { opType: 'ReduceSum', inputs: [`m${times}`], outputs: ['s'], attrs: [int('keepdims', 0)] },
    { opType: 'Mul', inputs: ['s', 'zero'], outputs: ['s0'] },
    { opType: 'Add', inputs: ['x', 's0'], outputs: ['y'] },
  );
  return nodes;
}

/** A slow model: a [n, n] matrix multiplied by itself `times` times, added to x as 0. */
export function slowModel(n: number, times: number): Uint8Array {
  const nodes: OnnxNode[] = [{ opType: 'ConstantOfShape', inputs: ['shape'], outputs: ['m0'], attrs: [] }];
  nodes.push(...squaredAndDropped(times));
  return buildModel({
    name: 'slow',
    nodes,
    initializers: [
      { name: 'shape', dims: [2], type: 'INT64', values: [n, n] },
      { name: 'zero', dims: [1], type: 'FLOAT', values: [0] },
    ],
    ...io,
  });
}

/**
 * A model slow at run time, on some inputs only: the smallest x, n, makes an [n, n] matrix of
 * zeros that is multiplied by itself `times` times (x below 1 is a 0 x 0 matrix: instant). Made
 * from the input, so onnxruntime cannot fold the products into a constant when it loads the
 * model, and an import's examples (x near 0 or 1) pass in no time. It answers x.
 */
export function slowRunModel(times: number): Uint8Array {
  const nodes: OnnxNode[] = [
    { opType: 'ReduceMin', inputs: ['x'], outputs: ['m'], attrs: [int('keepdims', 0)] },
    { opType: 'Max', inputs: ['m', 'zero'], outputs: ['mp'] },
    { opType: 'Cast', inputs: ['mp'], outputs: ['mi'], attrs: [int('to', 7)] },
    { opType: 'Reshape', inputs: ['mi', 'one'], outputs: ['n'] },
    { opType: 'Concat', inputs: ['n', 'n'], outputs: ['shape'], attrs: [int('axis', 0)] },
    { opType: 'Mul', inputs: ['m', 'zero'], outputs: ['m0z'] },
    { opType: 'Expand', inputs: ['m0z', 'shape'], outputs: ['m0'] },
  ];
  nodes.push(...squaredAndDropped(times));
  return buildModel({
    name: 'slow-run',
    nodes,
    initializers: [
      { name: 'one', dims: [1], type: 'INT64', values: [1] },
      { name: 'zero', dims: [1], type: 'FLOAT', values: [0] },
    ],
    ...io,
  });
}

/** The manifest of a generation of one regression endpoint "m" scoring input x with the model at models/m.onnx (these models all answer x). */
export function xManifest(generation: string, examples: unknown[] = []) {
  return {
    formatVersion: 1,
    generation,
    createdAt: '2026-01-01T00:00:00Z',
    endpoints: [
      {
        id: 'm',
        type: 'STD_PREDICTION',
        predictionType: 'REGRESSION',
        features: [{ name: 'x', type: 'NUMERIC' }],
        model: { file: 'models/m.onnx', inputs: { mode: 'MATRIX', input: 'x', columns: [{ feature: 'x', impute: 0 }] }, outputs: { prediction: 'y' } },
        examples,
      },
    ],
  };
}

/** xManifest's generation as files, ready to pack (packTarGz). */
export const xGeneration = (generation: string, onnx: Uint8Array, examples: unknown[] = []): Map<string, Uint8Array> =>
  new Map([
    ['manifest.json', new TextEncoder().encode(JSON.stringify(xManifest(generation, examples)))],
    ['models/m.onnx', onnx],
  ]);
