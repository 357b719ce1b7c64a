/** The bucket layout of DESIGN 3, in one place. */
export const layout = {
  service: (serviceId: string) => `services/${serviceId}/service.json`,
  generationsPrefix: (serviceId: string) => `services/${serviceId}/generations/`,
  generation: (serviceId: string, gen: string) => `services/${serviceId}/generations/${gen}/`,
  /** Written last: its presence commits the generation. */
  manifest: (serviceId: string, gen: string) => `services/${serviceId}/generations/${gen}/manifest.json`,
  file: (serviceId: string, gen: string, path: string) => `services/${serviceId}/generations/${gen}/${path}`,
  adminKeys: () => 'admin/keys.json',
};
