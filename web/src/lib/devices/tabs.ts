// The device page's sections, one route each under /devices/<id>/. Another section is one more entry here
// (and its route); DeviceTabs renders the list and marks the current one.
export interface DeviceTab {
  /** Path under /devices/<id>; '' is the overview. */
  slug: string;
  label: string;
}

export const DEVICE_TABS: readonly DeviceTab[] = [
  { slug: '', label: 'Overview' },
  { slug: 'interfaces', label: 'Interfaces' },
  { slug: 'wireless', label: 'Wireless' },
  { slug: 'events', label: 'Events & alerts' },
];

export function deviceTabHref(deviceId: string, slug: string): string {
  return slug ? `/devices/${deviceId}/${slug}` : `/devices/${deviceId}`;
}

/** The tab a path belongs to: the longest slug that prefixes it (a tab's sub-pages stay under it). */
export function activeDeviceTab(deviceId: string, pathname: string, tabs = DEVICE_TABS): string {
  const rest = pathname.replace(/\/+$/, '').slice(`/devices/${deviceId}`.length);
  let best = '';
  for (const t of tabs)
    if (t.slug && (rest === `/${t.slug}` || rest.startsWith(`/${t.slug}/`))) best = t.slug;
  return best;
}
