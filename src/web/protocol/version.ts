/**
 * The version of the control plane between the page and the hypervisor worker
 * (hvProtocol.ts). The two are separate scripts: a browser can run a page of one build
 * with a worker script of another (a stale cached worker, a deploy half done). The
 * worker's factory reports this number and the page checks it before anything else
 * (page/hypervisorClient.ts), refusing another one with a one-line error.
 *
 * Bump it with any change to the types or the method list of hvProtocol.ts.
 */
export const HV_PROTOCOL_VERSION = 7;
