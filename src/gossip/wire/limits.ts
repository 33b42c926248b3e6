/** Named sizes of the wire format. Every limit a decoder enforces is here. */

/** The version byte at the start of every decoded frame; bump on an incompatible change. */
export const WIRE_VERSION = 1;
/** The oldest and newest wire versions this build decodes. */
export const WIRE_VERSION_MIN = 1;
export const WIRE_VERSION_MAX = 1;

/** The version byte of a sealed packet or stream frame (see crypto/sealed-frame.ts). */
export const SEAL_VERSION = 1;
/** Bytes a sealing adds: version (1) + key hint (4) + nonce (12) + GCM tag (16). */
export const SEAL_OVERHEAD = 1 + 4 + 12 + 16;

/** The default sealed UDP packet size (the config's packetLimit may change it). */
export const DEFAULT_PACKET_LIMIT = 1_400;
/** Messages packed into one compound packet at most (the count is one byte). */
export const MAX_COMPOUND_MESSAGES = 255;
/** A compound packet's per-message header: a u16 length. */
export const COMPOUND_ENTRY_OVERHEAD = 2;
/** The largest stream frame (push-pull or bulk sync) accepted: 32 MiB. */
export const MAX_STREAM_FRAME = 32 * 1024 * 1024;
/** The largest string field (IDs, addresses, keys): 1 KiB. */
export const MAX_STRING_BYTES = 1_024;
/** The largest table value: 64 KiB (entries go whole into packets or streams). */
export const MAX_VALUE_BYTES = 64 * 1024;
/** The largest list (members, entries) in one message. */
export const MAX_LIST_LENGTH = 1_000_000;
