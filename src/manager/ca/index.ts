// Public API of the cluster CA (see README.md).
export { caConfigSchema, parseCaConfig, defaultCaConfig, type CaConfig } from './ca-config.js';
export { createRootCa, crossSign, rootCaToStored, rootCaFromStored, type RootCa, type StoredRootCa } from './root-ca.js';
export { issueNodeCertificate, type NodeCertSigner, type IssuedNodeCertificate } from './node-certificate.js';
export { createNodeKeyAndCsr, type NodeKeyAndCsr } from './node-csr.js';
export { CA_COMMON_NAME, NODE_ROLES, isNodeRole, isValidId, readNodeIdentity, type NodeRole, type NodeIdentity } from './node-identity.js';
export {
  RENEW_FROM_FRACTION, RENEW_TO_FRACTION, certificateValidity, renewalTime, needsRenewal, msUntilRenewal, type Validity,
} from './renewal.js';
export {
  rootDigest, generateTokenSecret, formatJoinToken, parseJoinToken, createJoinTokens, rotateJoinToken,
  retargetJoinTokens, roleForJoinToken, verifyRootAgainstToken, type JoinTokens, type ParsedJoinToken,
} from './join-token.js';
export { currentSigner, currentTrust, startRotation, needsReissue, finishRotation, type ClusterCa } from './rotation.js';
export { trustBundleFromPem, rootsPem, splitPemCertificates, type TrustBundle } from './trust-bundle.js';
export {
  verifyPeer, chainsToTrustedRoot, type PeerCertificateLike, type PeerPolicy, type PeerPurpose, type VerifiedPeer,
} from './verify-peer.js';
export { createCallAuthorizer, type CallAuthorizer, type CallAuthorizerOptions, type CallWithAuthContext } from './call-authorizer.js';
export { MemoryCertificateProvider, type NodeTlsMaterial } from './memory-certificate-provider.js';
export {
  createNodeServerCredentials, createNodeChannelCredentials, createBootstrapChannelCredentials, NODE_CHANNEL_OPTIONS, MIN_TLS_VERSION, CIPHER_SUITES,
  type ServerCheck,
} from './grpc-credentials.js';
export { createAuthorizationInterceptor, ERROR_CODE_TRAILER, type MethodAccess } from './authorization-interceptor.js';
