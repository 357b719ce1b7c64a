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
};
