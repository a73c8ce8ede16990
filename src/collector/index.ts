export type { CollectOptions, CollectSnapshot, CollectWindow, ConnectTarget, Target, TargetOptions, WindowOptions } from './api.js';
export { connectTarget } from './connect.js';
export { collectSnapshot } from './collect.js';
export { collectWindow } from './window.js';
export { TextCache } from './text-cache.js';
export { SQL_MARKER, isAdvisorQuery } from './sql-marker.js';
