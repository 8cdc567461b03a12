/**
 * What the toolstack does the same way for every split device (libxl_device.c's part of
 * libxl_disk.c and libxl_nic.c): Domain-0's backend host over the hypervisor, and the two
 * xenstore areas of a device (Xen's docs/misc/xenstore-paths.pandoc):
 *   /local/domain/0/backend/<kind>/<domid>/<devid>/   Domain-0's; the guest may read it
 *   /local/domain/<domid>/device/<kind>/<devid>/      the guest's; Domain-0 may read it
 * Both written in one go, without yielding between writes (XsHandle's calls are
 * synchronous underneath), the backend first: its state must be readable once the
 * frontend sees its own area. `frontend`, `frontend-id`, `backend`, `backend-id` and both
 * `state` nodes are written here; the caller gives the rest.
 */
import type { BackendHost } from '../backends/xenbus/host';
import type { Hypervisor } from '../xen/common/hypervisor';
import { XenbusStateInitialising } from '../xen/public/xenbus';

/** Domain-0's grant, event and xenstore access, as a backend driver uses it. */
export function dom0BackendHost(hv: Hypervisor): BackendHost {
  return {
    machine: hv.memory.views,
    gnttab: hv.gnttab,
    dom0Bind: (domid, port, handler) => hv.dom0Bind(domid, port, handler),
    dom0Close: (port) => hv.dom0Close(port),
    dom0Notify: (port) => {
      hv.evtchn.send(hv.dom0, port);
    },
    get xs() {
      return hv.xsDom0();
    },
    dmesg: (line) => hv.dmesg(line),
  };
}

export interface SplitDeviceAreas {
  frontendPath: string;
  backendPath: string;
}

/** Write a device's two areas in Initialising; a xenstore error goes to the hypervisor's log. */
export function writeDeviceAreas(
  hv: Hypervisor,
  domid: number,
  kind: string,
  devid: number,
  backendNodes: readonly [string, string][],
  frontendNodes: readonly [string, string][],
  /** false: the frontend's area is there already and is left as it is (a restored domain's: its frontend stays connected). */
  writeFrontend = true,
): SplitDeviceAreas {
  const xs = hv.xsDom0();
  const fe = `/local/domain/${domid}/device/${kind}/${devid}`;
  const be = `/local/domain/0/backend/${kind}/${domid}/${devid}`;
  const fail = (e: unknown): void => hv.dmesg(`${kind} ${domid}/${devid}: xenstore: ${String(e)}`);
  void xs.mkdir(be).catch(fail);
  void xs
    .setPerms(be, [
      { domid: 0, perm: 'n' },
      { domid, perm: 'r' },
    ])
    .catch(fail);
  const be0: [string, string][] = [
    ['frontend', fe],
    ['frontend-id', String(domid)],
    ['online', '1'],
    ['state', String(XenbusStateInitialising)],
  ];
  for (const [k, v] of [...be0, ...backendNodes]) void xs.write(`${be}/${k}`, v).catch(fail);
  if (!writeFrontend) return { frontendPath: fe, backendPath: be };
  // libxl makes the domain the owner of its `device` directory (libxl__domain_make); the
  // guest lists device/<kind> to find its devices.
  for (const dirPath of [`/local/domain/${domid}/device`, `/local/domain/${domid}/device/${kind}`]) {
    void xs.mkdir(dirPath).catch(fail);
    void xs.setPerms(dirPath, [{ domid, perm: 'n' }]).catch(fail);
  }
  void xs.mkdir(fe).catch(fail);
  void xs
    .setPerms(fe, [
      { domid, perm: 'n' },
      { domid: 0, perm: 'r' },
    ])
    .catch(fail);
  const fe0: [string, string][] = [
    ['backend', be],
    ['backend-id', '0'],
    ['state', String(XenbusStateInitialising)],
  ];
  for (const [k, v] of [...fe0, ...frontendNodes]) void xs.write(`${fe}/${k}`, v).catch(fail);
  return { frontendPath: fe, backendPath: be };
}

/** Remove both areas (after detach or destroy). */
export function removeDeviceAreas(hv: Hypervisor, domid: number, kind: string, devid: number): void {
  const xs = hv.xsDom0();
  void xs.rm(`/local/domain/0/backend/${kind}/${domid}/${devid}`).catch(() => {});
  void xs.rm(`/local/domain/${domid}/device/${kind}/${devid}`).catch(() => {});
}
