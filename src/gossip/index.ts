/** The gossip layer's public API (what the daemon and the leader's key manager use). */
export { GossipNode, type GossipNodeOptions, type GossipStats, type GossipTable, type GossipListener } from './node/gossip-node.js';
export { GossipKeyManager, KEY_ROTATION_MS, KEYS_KEPT, type GossipKey, type KeyManagerOptions } from './crypto/key-manager.js';
export { GOSSIP_KEY_BYTES } from './crypto/keyring.js';
export { resolveGossipConfig, gossipConfigSchema, gossipProfiles, type GossipConfig, type GossipConfigInput, type GossipProfile } from './config.js';
export type { MemberView, MemberState, MemberChange, TableChange, TableEntryView } from './core/types.js';

/** The default gossip port (TCP and UDP), as in Docker. */
export const GOSSIP_PORT = 7946;

/** The table names the dataplane uses, as in Docker's networkdb. */
export const GOSSIP_TABLES = {
  endpoints: 'endpoint_table',
  overlayPeers: 'overlay_peer_table',
} as const;
