/** The bucket layout of DESIGN 3, in one place. */
export const layout = {
  service: (serviceId: string) => `services/${serviceId}/service.json`,
  generationsPrefix: (serviceId: string) => `services/${serviceId}/generations/`,
  generation: (serviceId: string, gen: string) => `services/${serviceId}/generations/${gen}/`,
  /** Written last: its presence commits the generation. */
  manifest: (serviceId: string, gen: string) => `services/${serviceId}/generations/${gen}/manifest.json`,
  file: (serviceId: string, gen: string, path: string) => `services/${serviceId}/generations/${gen}/${path}`,
  /** An import's claim on a generation id while it writes the files (generation-import.ts); gone once it is done. */
  importClaim: (serviceId: string, gen: string) => `services/${serviceId}/generations/${gen}/.import-claim.json`,
  adminKeys: () => 'admin/keys.json',
  /** A guarded rollout's state (src/rollout/), written only If-Match the copy read. */
  rollout: (serviceId: string) => `services/${serviceId}/rollout.json`,
  /** One marker per service that ever had a rollout: what the scheduled advancing lists, instead of every key under services/. */
  rolloutMarker: (serviceId: string) => `rollouts/${serviceId}.json`,
  rolloutMarkers: () => 'rollouts/',
  /** One instance's figures for a generation in one minute (src/rollout/metric-windows.ts). */
  metricWindowsPrefix: (serviceId: string, gen: string, minute: string) => `metrics/service=${serviceId}/generation=${gen}/minute=${minute}/`,
};
