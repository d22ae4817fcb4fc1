import { describe, expect, it } from 'vitest';
import { activeDeviceTab, DEVICE_TABS, deviceTabHref } from './tabs';

describe('device tabs', () => {
  const id = '3f1d0d2e-7f0a-4b8e-9a43-111111111111';

  it('links each section under the device', () => {
    expect(DEVICE_TABS.map((t) => deviceTabHref(id, t.slug))).toEqual([
      `/devices/${id}`,
      `/devices/${id}/interfaces`,
      `/devices/${id}/wireless`,
      `/devices/${id}/events`,
    ]);
  });

  it('marks the section of the path, sub-pages included, else the overview', () => {
    expect(activeDeviceTab(id, `/devices/${id}`)).toBe('');
    expect(activeDeviceTab(id, `/devices/${id}/`)).toBe('');
    expect(activeDeviceTab(id, `/devices/${id}/wireless`)).toBe('wireless');
    expect(activeDeviceTab(id, `/devices/${id}/events/older`)).toBe('events');
    expect(activeDeviceTab(id, `/devices/${id}/interfacesx`)).toBe('');
    const more = [...DEVICE_TABS, { slug: 'config', label: 'Configuration' }];
    expect(activeDeviceTab(id, `/devices/${id}/config`, more)).toBe('config');
  });
});
