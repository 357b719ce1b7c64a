import { z } from 'zod';

/**
 * The Open Inference Protocol v2 (KServe, Triton, MLServer) as the node speaks it at
 * /oip/{serviceId}/v2/…, with Triton's binary tensor data extension (docs/oip.md).
 */

export const OIP_SERVER_NAME = 'apinode';
/** The node's version, reported by server metadata. */
export const OIP_SERVER_VERSION = '0.1.0';
export const OIP_EXTENSIONS = ['binary_tensor_data'] as const;

/** Names the ONNX-backed endpoints and the JavaScript (custom prediction) ones report as their platform. */
export const OIP_PLATFORMS = { onnx: 'onnxruntime_onnx', custom: 'apinode_custom' } as const;

/** Tells where the JSON header of a body with binary tensors ends (Triton's binary extension). */
export const INFERENCE_HEADER_CONTENT_LENGTH = 'Inference-Header-Content-Length';

export const OipDatatype = z.enum(['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BF16', 'BYTES']);
export type OipDatatype = z.infer<typeof OipDatatype>;

/** Element values: flat or nested in the tensor's shape, row-major. Elements are checked by the node, not here (big batches). */
export const OipTensorData = z.array(z.unknown());

const Dimension = z.number().int().min(0);

export const OipRequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(Dimension),
  datatype: OipDatatype,
  parameters: z
    .object({
      /** Binary extension: the tensor's bytes follow the JSON header, in input order. */
      binary_data_size: z.number().int().min(0).optional(),
    })
    .catchall(z.unknown())
    .optional(),
  /** Absent when the tensor travels as binary data. */
  data: OipTensorData.optional(),
});
export type OipRequestInput = z.infer<typeof OipRequestInput>;

export const OipRequestOutput = z.object({
  name: z.string().min(1),
  parameters: z
    .object({
      /** Binary extension: return this output as binary data. @default - the request's binary_data_output */
      binary_data: z.boolean().optional(),
    })
    .catchall(z.unknown())
    .optional(),
});
export type OipRequestOutput = z.infer<typeof OipRequestOutput>;

export const OipInferRequest = z.object({
  /** Echoed in the answer. */
  id: z.string().optional(),
  parameters: z
    .object({
      /** Pins the generation deterministically, like DSS's dispatch.dispatchKey. @default - a random draw from the mapping */
      dispatch_key: z.string().optional(),
      /** Binary extension: return every output as binary data unless an output says otherwise. @default false */
      binary_data_output: z.boolean().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  /** One tensor per feature, shape [N] or [N, 1]; a feature without a tensor is missing in every row. */
  inputs: z.array(OipRequestInput),
  /** The outputs to return. @default - every output of the model */
  outputs: z.array(OipRequestOutput).optional(),
});
export type OipInferRequest = z.infer<typeof OipInferRequest>;

export const OipResponseOutput = z.object({
  name: z.string(),
  shape: z.array(z.number().int()),
  datatype: OipDatatype,
  parameters: z.object({ binary_data_size: z.number().int().optional() }).optional(),
  /** Absent when the tensor follows the JSON header as binary data. */
  data: z.array(z.union([z.number(), z.string(), z.boolean(), z.null()])).optional(),
});
export type OipResponseOutput = z.infer<typeof OipResponseOutput>;

export const OipInferResponse = z.object({
  model_name: z.string(),
  /** The generation that answered. */
  model_version: z.string(),
  id: z.string().optional(),
  outputs: z.array(OipResponseOutput),
});
export type OipInferResponse = z.infer<typeof OipInferResponse>;

export const OipMetadataTensor = z.object({
  name: z.string(),
  datatype: OipDatatype,
  /** -1 is the batch dimension. */
  shape: z.array(z.number().int()),
  /** Extension: the class label of each column of a probabilities output, in order. */
  parameters: z.object({ classes: z.array(z.string()).optional() }).optional(),
});
export type OipMetadataTensor = z.infer<typeof OipMetadataTensor>;

export const OipModelMetadata = z.object({
  name: z.string(),
  /** The generations of the service's mapping that hold the endpoint. */
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(OipMetadataTensor),
  outputs: z.array(OipMetadataTensor),
});
export type OipModelMetadata = z.infer<typeof OipModelMetadata>;

export const OipServerMetadata = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
export type OipServerMetadata = z.infer<typeof OipServerMetadata>;

export const OipServerLive = z.object({ live: z.boolean() });
export const OipServerReady = z.object({ ready: z.boolean() });
export const OipModelReady = z.object({ name: z.string(), ready: z.boolean() });
export type OipModelReady = z.infer<typeof OipModelReady>;

/** Every OIP error, whatever the status. */
export const OipError = z.object({ error: z.string() });
export type OipError = z.infer<typeof OipError>;
