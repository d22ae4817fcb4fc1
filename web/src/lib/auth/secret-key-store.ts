// The Secret Key stays in this browser: IndexedDB (database `tod`, store `secret-keys`, one entry per email).
// It is never sent to the server; a new browser asks for it (from the Emergency Kit) once.
import type { SecretKey } from '@tod/contracts/srp';

const DB = 'tod';
const STORE = 'secret-keys';

interface StoredKey {
  email: string;
  id: string;
  bits: Uint8Array;
  savedAt: string;
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore(STORE, { keyPath: 'email' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const norm = (email: string) => email.trim().toLowerCase();

export async function loadSecretKey(email: string): Promise<SecretKey | null> {
  const row = await run<StoredKey | undefined>('readonly', (s) => s.get(norm(email)));
  return row ? { id: row.id, bits: new Uint8Array(row.bits) } : null;
}

export async function saveSecretKey(email: string, key: SecretKey): Promise<void> {
  const row: StoredKey = {
    email: norm(email),
    id: key.id,
    bits: key.bits,
    savedAt: new Date().toISOString(),
  };
  await run('readwrite', (s) => s.put(row));
}

export async function forgetSecretKey(email: string): Promise<void> {
  await run('readwrite', (s) => s.delete(norm(email)));
}
