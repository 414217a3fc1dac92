// The front door's public surface, for src/index.ts to re-export.
export { openSessionCache } from './open-session-cache.js';
export { RESUMPTION_MODES, type OpenSessionCacheOptions, type ResumptionMode } from './options.js';
export type { SessionService, SessionServiceStats } from './session-service.js';
