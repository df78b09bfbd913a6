/**
 * The workflow id of an event, one rule for every starter: the ingress, the console's direct start,
 * load tests. Derived from the event's id alone, so a redelivered message (a crash between start and
 * commit, a replay from offset 0) or the same event sent two ways finds its workflow already started
 * instead of starting a second one.
 */

const PREFIX = 'evt-';

/** `evt-<event id>`. */
export function workflowIdOfEvent(eventId: string): string {
  return `${PREFIX}${eventId}`;
}

/** The event id in a workflow id made by {@link workflowIdOfEvent}; undefined for any other id. */
export function eventIdOfWorkflow(workflowId: string): string | undefined {
  return workflowId.startsWith(PREFIX) && workflowId.length > PREFIX.length
    ? workflowId.slice(PREFIX.length)
    : undefined;
}
