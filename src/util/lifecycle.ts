/** One start/stop lifecycle for every stateful component (js-libp2p style). */
export interface Startable {
  start(): Promise<void>;
  /** Stops the component; safe to call more than once and after a failed start. */
  stop(): Promise<void>;
}
