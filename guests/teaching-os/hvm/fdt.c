/*
 * Just enough of a flattened device tree reader (devicetree spec v0.4, chapter 5) to
 * learn the RAM size (/memory reg) and the number of harts (/cpus/cpu@N). The tree is
 * read once at boot; its pages are not kept reserved afterwards.
 */
#include "hvm.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP        4u
#define FDT_END        9u

static uint32_t be32(const void *p) {
  const uint8_t *b = p;
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

int fdt_scan(uint32_t addr, struct fdt_facts *out) {
  const uint8_t *fdt = (const uint8_t *)(uintptr_t)addr;
  memset(out, 0, sizeof *out);
  if (!addr || (addr & 3) || be32(fdt) != FDT_MAGIC) return -1;
  uint32_t total = be32(fdt + 4);
  const uint8_t *p = fdt + be32(fdt + 8), *end = fdt + total;
  const char *strings = (const char *)fdt + be32(fdt + 12);
  uint32_t addr_cells = 2, size_cells = 2;
  int depth = 0, in_memory = 0, in_cpus = 0;
  while (p + 4 <= end) {
    uint32_t tok = be32(p);
    p += 4;
    if (tok == FDT_BEGIN_NODE) {
      const char *name = (const char *)p;
      depth++;
      if (depth == 2) {
        in_memory = starts_with(name, "memory@") || strcmp(name, "memory") == 0;
        in_cpus = strcmp(name, "cpus") == 0;
      } else if (depth == 3 && in_cpus && starts_with(name, "cpu@")) {
        out->harts++;
      }
      p += (strlen(name) + 1 + 3) & ~3u;
    } else if (tok == FDT_END_NODE) {
      if (depth == 2) in_memory = in_cpus = 0;
      depth--;
    } else if (tok == FDT_PROP) {
      uint32_t len = be32(p), nameoff = be32(p + 4);
      const uint8_t *val = p + 8;
      const char *name = strings + nameoff;
      if (depth == 1 && len == 4 && strcmp(name, "#address-cells") == 0) addr_cells = be32(val);
      if (depth == 1 && len == 4 && strcmp(name, "#size-cells") == 0) size_cells = be32(val);
      if (depth == 2 && in_memory && strcmp(name, "reg") == 0 && len >= 4 * (addr_cells + size_cells)) {
        /* RAM below 4 GiB: the low words of a 2-cell address and size are enough. */
        out->mem_base = be32(val + 4 * (addr_cells - 1));
        out->mem_size = be32(val + 4 * (addr_cells + size_cells - 1));
      }
      p = val + ((len + 3) & ~3u);
    } else if (tok == FDT_NOP) {
      continue;
    } else {
      break;  /* FDT_END or garbage */
    }
  }
  return out->mem_size ? 0 : -1;
}
