// Public API of the simulator: what the collector's tests import to run a fleet of RouterOS devices on loopback.

export type { ControlServer } from './control';
export { parseFaultSet, startControlServer } from './control';
export type { Clock } from './device/clock';
export { ManualClock, systemClock } from './device/clock';
export { BOARDS, versionTraits } from './device/personality';
export type { FaultSet } from './faults/faults';
export type {
  DeviceManifestEntry,
  DeviceOverride,
  Fleet,
  FleetManifest,
  FleetOptions,
  FleetUser,
} from './fleet';
export { DEFAULT_BOARD_ROTATION, SimDevice, startFleet } from './fleet';
export { decodeLength, encodeLength, encodeSentence, SentenceDecoder } from './wire/codec';
export { challengeResponse } from './wire/session';
export type { TlsConfig } from './wire/tls';
export { ADH_CIPHERS, generateCertificate } from './wire/tls';
