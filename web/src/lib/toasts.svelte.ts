// Toasts: short messages in an aria-live region; errors stay until dismissed, others fade after 5 s.
export interface Toast {
  id: number;
  kind: 'info' | 'success' | 'error';
  message: string;
}

let next = 1;
export const toasts = $state<Toast[]>([]);

export function dismiss(id: number): void {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}

export function toast(message: string, kind: Toast['kind'] = 'info'): void {
  const id = next++;
  toasts.push({ id, kind, message });
  if (kind !== 'error') setTimeout(() => dismiss(id), 5000);
}

export function toastError(err: unknown): void {
  toast(err instanceof Error ? err.message : String(err), 'error');
}
