/** Domain-0's network backend (netback) for pv guests: see README.md. */
export { MAX_TX_PER_ROUND, NetBack, RX_QUEUE_MAX, VifDevice, type VifSpec, type VifStats } from './netback';
export { TX_REFUSALS, type TxRefusal } from './tx';
