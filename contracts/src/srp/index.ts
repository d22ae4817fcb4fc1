// SRP-6a with two-secret key derivation: one implementation for web/, the edge and the tests.
export * from './bytes';
export * from './client';
export * from './groups';
export * from './kdf';
export * from './math';
export * from './server';
