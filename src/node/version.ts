/** The node's version, reported by `medchain version` and node_info. */
export const MEDCHAIN_VERSION = '0.1.0';
