/** Virtual networks in Domain-0: the bridge, Domain-0's interface, DHCP, captures. See README.md. */
export { Bridge, BridgePort, type BridgeOptions, type FdbEntry, type PortCounters, type PortDevice, type TapListener } from './bridge';
export { DomainZeroNetif, DOM0_MAC, type HostIfConfig, type PingReply } from './hostif';
export { DhcpServer, type DhcpLease } from './dhcp';
export { PcapCapture, pcapFileHeader, pcapRecord, readPcap, LINKTYPE_ETHERNET } from './pcap';
export { summarize, tcpdumpLine, tcpdumpTime, type FrameSummary } from './summary';
export * from './ethernet';
export { formatIp, parseIp, parseCidr, prefixMask } from './ipv4';
