export * from './api/enrollment';
export * from './api/errors';
export * from './api/health';
export * from './events';
export * from './registry';
