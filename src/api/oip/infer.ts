import type { Context } from 'hono';
import type { OipInferRequest, PredictionResult } from '@apinode/protocol';
import { ApiError } from '../../errors.js';
import { actionOf } from '../../kinds/registry.js';
import type { Deps } from '../../services/deps.js';
import { admit, invoke } from '../endpoint-routes.js';
import type { AppEnv } from '../env.js';
import { readInferBody, renderInfer } from './body.js';
import { acceptedInputs, oipSpec, outputsOf, type OutputColumn } from './model.js';
import { recordsOf } from './tensors.js';

interface Selected {
  readonly column: OutputColumn;
  readonly binary: boolean;
}

/**
 * POST …/v2/models/{endpointId}[/versions/{generation}]/infer: the input tensors become records
 * and the endpoint's predict-multi action scores them as ONE batch, through the request path the
 * DSS routes take (dispatch, lease, timing, metrics, query log).
 */
export async function infer(deps: Deps, c: Context<AppEnv>): Promise<Response> {
  const admitted = await admit(deps, c);
  const serviceId = admitted.service.serviceId;
  const { request, binary } = await readInferBody(c, deps.config.maxBodyBytes);
  const version = c.req.param('generation');
  let selected: Selected[] = [];
  const { outcome, call } = await invoke(deps, c, admitted, {
    dispatch: version !== undefined ? { forcedGeneration: version } : { dispatchKey: request.parameters?.dispatch_key },
    action: (spec) => actionOf(oipSpec(spec, serviceId), 'POST', 'predict-multi'),
    input: (_action, spec) => {
      const model = oipSpec(spec, serviceId);
      selected = select(request, outputsOf(model), spec.id);
      const records = recordsOf(request, binary, acceptedInputs(model), spec.id);
      // Explanations are no OIP output: never compute them, whatever the endpoint's default.
      return { items: records.map((features) => ({ features })), explanations: { enabled: false } };
    },
  });
  const results = outcome.body.results as PredictionResult[];
  const ignored = results.findIndex((r) => r.ignored);
  if (ignored !== -1) throw ApiError.badRequest('INVALID_RECORD', `Row ${ignored} cannot be scored: ${results[ignored]!.ignoreReason}`, 'OIP answers whole tensors: fix or leave out the row');
  const head = { model_name: call.endpointId, model_version: call.generation, ...(request.id !== undefined ? { id: request.id } : {}) };
  return renderInfer(
    c,
    head,
    selected.map(({ column, binary }) => ({
      name: column.name,
      datatype: column.datatype,
      shape: column.classes ? [results.length, column.classes.length] : [results.length],
      values: column.read(results),
      binary,
    })),
  );
}

/** The outputs asked for (all by default), each in JSON or binary (binary_data, else the request's binary_data_output). */
function select(request: OipInferRequest, columns: readonly OutputColumn[], model: string): Selected[] {
  const all = request.parameters?.binary_data_output === true;
  if (!request.outputs) return columns.map((column) => ({ column, binary: all }));
  return request.outputs.map((o) => {
    const column = columns.find((col) => col.name === o.name);
    if (!column) throw ApiError.badRequest('INVALID_REQUEST', `Model "${model}" has no output "${o.name}"; its outputs are ${columns.map((col) => col.name).join(', ')}`);
    // Triton's top-k classification would be silently ignored otherwise: the probabilities output has every class.
    if (o.parameters?.classification !== undefined) throw ApiError.badRequest('INVALID_REQUEST', 'The classification output parameter is not supported; ask for the probabilities output');
    return { column, binary: o.parameters?.binary_data ?? all };
  });
}
