// The CLI's exit codes, one place for main.ts, the help texts and docs/cli.md ("Exit codes").

/** The command did what it was asked. */
export const EXIT_OK = 0;
/**
 * The command failed: an option value or argument that is not valid or usable (a malformed
 * number, an unreadable file, a bad certificate), a store that cannot be opened or read, a demo
 * that resumed nothing.
 */
export const EXIT_FAILURE = 1;
/**
 * The command line itself is wrong: an unknown command or option, a missing or extra argument, a
 * required option not given. Nothing was done.
 */
export const EXIT_USAGE = 2;

/** Exit codes, for help texts. */
export const EXIT_CODES_HELP = `
Exit codes: 0 success; 1 failure (an option value or argument that is not valid, a store that
cannot be opened or read), with one line on stderr starting with "tls-session-cache:"; 2 usage
error (an unknown command or option, a missing argument or required option), one line and a hint.`;
