export const FLUX_CONFIG = Symbol('FLUX_CONFIG');
export const FLUX_LOGGER = Symbol('FLUX_LOGGER');
