export { buildApp } from './app.js';
export type { ApiDeps } from './app.js';
export { assertSafeBind, isLoopback } from './bind.js';
export { findToken } from './auth.js';
