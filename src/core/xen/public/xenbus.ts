/** io/xenbus.h: the states of a split device's two ends, published as each end's `state` node. */
export const XenbusStateUnknown = 0,
  XenbusStateInitialising = 1,
  XenbusStateInitWait = 2,
  XenbusStateInitialised = 3,
  XenbusStateConnected = 4,
  XenbusStateClosing = 5,
  XenbusStateClosed = 6,
  XenbusStateReconfiguring = 7,
  XenbusStateReconfigured = 8;

export const XENBUS_STATE_NAMES = [
  'Unknown',
  'Initialising',
  'InitWait',
  'Initialised',
  'Connected',
  'Closing',
  'Closed',
  'Reconfiguring',
  'Reconfigured',
] as const;
