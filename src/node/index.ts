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
export { ticketServerOptions } from './ticket-server-options.js';
export {
  openTicketKeys,
  TicketKeys,
  DEFAULT_TICKET_REFRESH_MS,
  type TicketKeysOptions,
  type TicketKeysStats,
} from './ticket-keys.js';
export {
  TicketKeySchedule,
  DEFAULT_ROTATE_EVERY_MS,
  DEFAULT_ACCEPT_FOR_MS,
} from './ticket-key-schedule.js';
