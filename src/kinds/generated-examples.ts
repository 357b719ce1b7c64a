import type { Feature, PredictionEndpointSpec } from '@apinode/protocol';
import type { FeatureRecord } from '../inference/encoding.js';

/**
 * Records made from an endpoint's feature schema, for an import to run a model whose manifest
 * gives no examples (docs/isolation-models.md#generated-examples). Nothing is expected of their
 * results: they exist so that every model runs once, on the shapes the node will feed it, before
 * it can serve. Three records in one batch: typical values (a matrix column's centre, its first
 * category), one unit away (its scale, its last category), and every feature missing (imputation).
 */
export function generatedRecords(spec: Pick<PredictionEndpointSpec, 'features' | 'model'>): FeatureRecord[] {
  const inputs = spec.features.filter((f) => f.role === 'INPUT');
  const columns = spec.model.inputs.mode === 'MATRIX' ? spec.model.inputs.columns : [];
  const typical = (f: Feature, far: boolean): unknown => {
    const column = columns.find((c) => c.feature === f.name);
    if (column && 'oneHot' in column) return far ? column.oneHot.at(-1) : column.oneHot[0];
    if (f.type === 'CATEGORY') return far ? 'b' : 'a';
    const centre = column && 'shift' in column ? column.shift : 0;
    const unit = column && 'scale' in column && column.scale !== 0 ? 1 / column.scale : 1;
    return far ? centre + unit : centre;
  };
  const record = (value: (f: Feature) => unknown) => Object.fromEntries(inputs.map((f) => [f.name, value(f)]));
  return [record((f) => typical(f, false)), record((f) => typical(f, true)), record(() => null)];
}
