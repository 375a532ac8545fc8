// Instrument names the scenarios subscribe to: the paper market's synthetic equities and the
// generated Kite instruments.

export function paperSymbol(n: number): string {
  return `PAPER${String(n).padStart(4, "0")}`;
}

/** Symbol `n` (0-based) of the generated Kite instruments CSV ({@link writeKiteInstruments}). */
export function kiteSymbol(n: number): string {
  return `SYM${n}`;
}
