// Numbers as people read them.

export function formatParameters(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B parameters`;
  if (n >= 1e6) return `${Math.round(n / 1e6)}M parameters`;
  return `${n} parameters`;
}

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${Math.round(n / 1e6)} MB`;
  if (n >= 1e3) return `${Math.round(n / 1e3)} kB`;
  return `${n} B`;
}

export function formatTokens(n: number): string {
  return n >= 1024 && n % 1024 === 0 ? `${n / 1024}K tokens` : `${n} tokens`;
}
