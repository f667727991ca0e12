// Await a condition instead of sleeping: poll until it holds or a deadline
// passes. The same helper `ozy up` uses to wait for what it starts.
export { pollUntil as waitFor, type PollOptions } from '../../src/up/wait';
