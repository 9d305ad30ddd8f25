/** The colours of badges and notices, by meaning. */
export type Tone = 'neutral' | 'good' | 'warn' | 'bad' | 'info';
