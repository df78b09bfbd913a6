/*
 * The search attributes routing records, defined once. Safe inside the workflow sandbox (imports only
 * @temporalio/common).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Keyword search attribute with the routing key (register it on the namespace first). */
export const ROUTING_KEY_SEARCH_ATTRIBUTE = defineSearchAttributeKey(
  'SignadotRoutingKey',
  SearchAttributeType.KEYWORD,
);

/** Keyword search attribute with the owner, spelled by `ownerLabel`: `baseline` or the sandbox name. */
export const SANDBOX_SEARCH_ATTRIBUTE = defineSearchAttributeKey(
  'SignadotSandbox',
  SearchAttributeType.KEYWORD,
);
