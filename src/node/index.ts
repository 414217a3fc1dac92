export { attach, type AttachOptions, type Attachment } from './attach.js';
export type { AttachmentStats } from './attachment-stats.js';
export {
  statefulServerOptions,
  DEFAULT_SESSION_ID_CONTEXT,
  type StatefulServerOptions,
  type StatefulServerOptionsInput,
} from './stateful-options.js';
export { sessionRecordFromDer, type SessionRecord } from '../session/session-record.js';
export { namespaceOf } from './namespace.js';
