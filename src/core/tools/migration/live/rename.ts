/**
 * `libxl_domain_rename` for the migration's names (NAME--migratedaway, NAME--incoming): the
 * domain's config name (what `xl list` shows and `xl` finds it by) and its xenstore `name`
 * node (/local/domain/N/name, xenstore-paths.pandoc).
 */
import type { Domain } from '../../../xen/common/domain';
import type { Hypervisor } from '../../../xen/common/hypervisor';

export function renameDomain(hv: Hypervisor, d: Domain, name: string): void {
  if (d.name === name) return;
  for (const o of hv.domains.values()) if (o !== d && o.name === name) throw new Error(`a domain named "${name}" exists already`);
  (d.config as { name: string }).name = name;
  void hv
    .xsDom0()
    .write(`/local/domain/${d.domid}/name`, name)
    .catch(() => undefined); // a domain without a xenstore home (being built) has nothing to update
  hv.dmesg(`domain ${d.domid}: renamed ${name}`);
}
