// Bulk CLI results grouped by identical output, so 200 devices that gave two distinct answers read as two
// groups. Outputs are compared after normalising line endings and trailing whitespace (per line and at the
// end), which RouterOS varies between versions and terminals.

export interface OutputGroup {
  output: string;
  deviceIds: string[];
}

export function normaliseOutput(output: string): string {
  return output
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.replace(/\s+$/, ''))
    .join('\n')
    .replace(/\n+$/, '');
}

/** Groups, largest first (ties by first appearance); device order inside a group is kept. */
export function groupOutputs(items: readonly { deviceId: string; output: string }[]): OutputGroup[] {
  const groups = new Map<string, OutputGroup>();
  for (const item of items) {
    const key = normaliseOutput(item.output);
    let g = groups.get(key);
    if (!g) {
      g = { output: key, deviceIds: [] };
      groups.set(key, g);
    }
    g.deviceIds.push(item.deviceId);
  }
  return [...groups.values()].sort((a, b) => b.deviceIds.length - a.deviceIds.length);
}
