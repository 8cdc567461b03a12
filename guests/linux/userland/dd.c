/*
 * dd [if=FILE] [of=FILE] [bs=N] [ibs=N] [obs=N] [count=N] [skip=N] [seek=N] [conv=fsync,notrunc]
 * Copies count blocks of bs bytes and prints, on standard error, what GNU dd prints:
 *   2048+0 records in
 *   2048+0 records out
 *   1048576 bytes (1.0 MB, 1.0 MiB) copied, 0.0211 s, 49.7 MB/s
 * (ibs/obs are accepted as bs: records are always whole input reads.)
 */
#include "box.h"

/* v/div with one decimal below 10 ("1.0", "9.9") and none above ("49", "512"). */
static void put_scaled(char *buf, u64 v, u64 div) {
  char num[21];
  u64 tenths = (v * 10 + div / 2) / div;
  if (tenths < 100) {
    fmt_u(num, tenths / 10);
    strlcat(buf, num, 96), strlcat(buf, ".", 96);
    fmt_u(num, tenths % 10);
  } else {
    fmt_u(num, (v + div / 2) / div);
  }
  strlcat(buf, num, 96);
}

/* 1.2 kB / MB / GB (powers of 1000) or KiB / MiB / GiB (of 1024). */
static void put_human(char *buf, u64 v, int binary) {
  static const char units[] = "kMGT";
  u64 base = binary ? 1024 : 1000, div = base;
  int u = 0;
  while (u < 3 && v >= div * base) div *= base, u++;
  put_scaled(buf, v, div);
  char unit[5] = {' ', units[u], 0, 0, 0};
  if (binary) unit[1] = u ? units[u] : 'K', unit[2] = 'i', unit[3] = 'B';
  else unit[2] = 'B';
  strlcat(buf, unit, 96);
}

static int contains(const char *s, const char *word) {
  for (size_t n = strlen(word); *s; s++)
    if (!strncmp(s, word, n)) return 1;
  return 0;
}

static int seek_blocks(int fd, u64 blocks, u64 bs) {
  u64 off = blocks * bs, result;
  return (int)my_syscall5(__NR_llseek, fd, (unsigned long)(off >> 32), (unsigned long)off, &result, 0);
}

int dd_main(int argc, char **argv) {
  const char *in = 0, *outp = 0;
  u64 bs = 512, count = ~0ull, skip = 0, seek = 0;
  int fsync_at_end = 0, trunc = 1;
  for (int i = 1; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) return warn_msg("dd", "operands are KEY=VALUE"), 1;
    *eq = 0;
    const char *k = argv[i], *v = eq + 1;
    int ok = 1;
    if (!strcmp(k, "if")) in = v;
    else if (!strcmp(k, "of")) outp = v;
    else if (!strcmp(k, "bs") || !strcmp(k, "ibs") || !strcmp(k, "obs")) ok = parse_size(v, &bs) && bs > 0;
    else if (!strcmp(k, "count")) ok = parse_size(v, &count);
    else if (!strcmp(k, "skip")) ok = parse_size(v, &skip);
    else if (!strcmp(k, "seek")) ok = parse_size(v, &seek);
    else if (!strcmp(k, "conv")) {
      fsync_at_end = contains(v, "fsync");
      trunc = !contains(v, "notrunc");
    } else ok = 0;
    if (!ok) return *eq = '=', warn_msg("dd", argv[i]), 1;
  }
  if (bs > 64 * 1024 * 1024) return warn_msg("dd", "bs is at most 64M"), 1;
  int ifd = in ? open(in, O_RDONLY) : 0;
  if (ifd < 0) return warn("dd", in), 1;
  int ofd = outp ? open(outp, O_WRONLY | O_CREAT | (trunc && !seek ? O_TRUNC : 0), 0644) : 1;
  if (ofd < 0) return warn("dd", outp), 1;
  char *buf = malloc((size_t)bs);
  if (!buf) return warn("dd", "bs"), 1;
  if (skip && seek_blocks(ifd, skip, bs) < 0)
    for (u64 s = 0; s < skip && read(ifd, buf, (size_t)bs) > 0; s++) {}
  if (seek && seek_blocks(ofd, seek, bs) < 0) return warn("dd", "seek"), 1;
  u64 full_in = 0, part_in = 0, full_out = 0, part_out = 0, bytes = 0, t0 = now_us();
  int status = 0;
  while (full_in + part_in < count) {
    ssize_t n = read(ifd, buf, (size_t)bs);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      warn("dd", in ? in : "standard input");
      status = 1;
      break;
    }
    if (n == 0) break;
    (u64)n == bs ? full_in++ : part_in++;
    if (write_all(ofd, buf, (size_t)n) < 0) {
      warn("dd", outp ? outp : "standard output");
      status = 1;
      break;
    }
    (u64)n == bs ? full_out++ : part_out++;
    bytes += (u64)n;
  }
  if (fsync_at_end && fsync(ofd) < 0) warn("dd", "fsync"), status = 1;
  u64 us = now_us() - t0;
  char line[96] = "", num[21];
  fdout(2, fmt_u(num, full_in)), fdout(2, "+"), fdout(2, fmt_u(num, part_in)), fdout(2, " records in\n");
  fdout(2, fmt_u(num, full_out)), fdout(2, "+"), fdout(2, fmt_u(num, part_out)), fdout(2, " records out\n");
  strlcat(line, fmt_u(num, bytes), sizeof line);
  strlcat(line, bytes == 1 ? " byte" : " bytes", sizeof line);
  if (bytes >= 1000) {
    strlcat(line, " (", sizeof line), put_human(line, bytes, 0);
    strlcat(line, ", ", sizeof line), put_human(line, bytes, 1), strlcat(line, ")", sizeof line);
  }
  /* seconds with 4 significant decimals below 1 s, like GNU's %g */
  strlcat(line, " copied, ", sizeof line);
  strlcat(line, fmt_u(num, us / 1000000), sizeof line);
  char frac[8] = ".000000";
  for (int i = 6, v = (int)(us % 1000000); i > 0; i--, v /= 10) frac[i] = (char)('0' + v % 10);
  frac[us >= 1000000 ? 4 : 7] = 0;
  strlcat(line, frac, sizeof line);
  strlcat(line, " s, ", sizeof line);
  u64 rate = us ? bytes * 1000000 / us : 0;
  if (rate < 1000) strlcat(line, fmt_u(num, rate), sizeof line), strlcat(line, " B", sizeof line);
  else put_human(line, rate, 0);
  strlcat(line, "/s\n", sizeof line);
  fdout(2, line);
  free(buf);
  return status;
}
