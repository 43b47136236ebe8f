/**
 * @xmc/markers: static markers that cost a NOP when off and make a call with decoded arguments
 * when on — discovery of marker sites in ELF programs (our `xmc/marker.h` notes, USDT probes,
 * patchable function entries), and probe management (connect by name or glob with a format
 * check, reference-counted arm/disarm through @xmc/text-patch, stubs freed after quiescence).
 * It reaches the machine only through the {@link MarkerPort} it defines.
 * @module
 */
export { type ArgContext, ArgFault, argValue, operandAddress, readGuestString } from "./args.ts";
export { MarkerError, type MarkerRule } from "./errors.ts";
export {
  type Conversion,
  convert,
  formatForSpecs,
  formatProblem,
  formatsAgree,
  isWide,
  type ProbeValue,
  parseFormat,
  renderFormat,
} from "./format.ts";
export {
  type ArmResult,
  type Connection,
  globToRegExp,
  type MarkerEvent,
  Markers,
  type MarkersOptions,
  type Probe,
} from "./markers.ts";
export type { MarkerCpu, MarkerPort, MarkerTrapHandler } from "./port.ts";
export {
  discoverSites,
  type MarkerSite,
  NT_XMC_MARKER,
  type SiteKind,
  siteName,
  XMC_NOTE_OWNER,
} from "./sites.ts";
export { STUB_RSP_OFFSET, STUB_SIZE, STUB_SLOT, StubArena, stubBytes } from "./stub.ts";
