// The device a device page shows: the live list's copy once it has it (status changes arrive there), else
// one fetched by id. Call during a component's initialisation (it owns an $effect).
import type { Device } from '@tod/contracts';
import { ApiError, api } from '../api/client';
import { session } from '../session.svelte';
import { toastError } from '../toasts.svelte';
import { deviceStore } from './store.svelte';

export interface CurrentDevice {
  readonly device: Device | null;
  readonly notFound: boolean;
}

export function currentDevice(id: () => string): CurrentDevice {
  let fetched = $state<Device | null>(null);
  let notFound = $state(false);
  $effect(() => {
    const want = id();
    if (!session.tenantId || !want) return;
    notFound = false;
    api
      .get<Device>(`/api/devices/${want}`)
      .then((d) => {
        if (want === id()) fetched = d;
      })
      .catch((err) => {
        if (err instanceof ApiError && (err.status === 404 || err.status === 400)) notFound = true;
        else toastError(err);
      });
  });
  return {
    get device() {
      const want = id();
      return deviceStore.byId(want) ?? (fetched?.id === want ? fetched : null);
    },
    get notFound() {
      return notFound;
    },
  };
}
