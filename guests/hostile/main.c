/*
 * hostile: boot, console and the command shell. Output goes through CONSOLEIO_write one
 * line at a time; input is read from the console ring's in[] (the ring page start_info
 * names), blocking in SCHEDOP_block between lines. Numbers are decimal or 0x-hex; frame
 * numbers are the ABI's (guest-physical address >> 12).
 */
#include "hostile.h"

struct pv_info pv;
volatile uint32_t spin_counter;

/* ---- hypercalls and the console -------------------------------------------------- */

int32_t hypercall(uint32_t nr, uint32_t a0, uint32_t a1, uint32_t a2) {
  register uint32_t r0 __asm__("a0") = a0;
  register uint32_t r1 __asm__("a1") = a1;
  register uint32_t r2 __asm__("a2") = a2;
  register uint32_t r6 __asm__("a6") = nr;
  register uint32_t r7 __asm__("a7") = XEN_SBI_EXT;
  __asm__ volatile("ecall" : "+r"(r0), "+r"(r1) : "r"(r2), "r"(r6), "r"(r7) : "memory");
  return (int32_t)r0;
}

uint64_t now_ticks(void) {
  uint32_t hi, lo;
  do {
    hi = csr_read(timeh);
    lo = csr_read(time);
  } while (hi != csr_read(timeh));
  return (uint64_t)hi << 32 | lo;
}

void yield(void) { hypercall(HC_sched_op, SCHEDOP_yield, 0, 0); }

void evtchn_send(uint32_t port) {
  uint32_t p = port;
  hypercall(HC_event_channel_op, EVTCHNOP_send, (uint32_t)&p, 0);
}

static char line_out[256];
static uint32_t line_len;

static void flush_out(void) {
  if (line_len) hypercall(HC_console_io, CONSOLEIO_write, line_len, (uint32_t)line_out);
  line_len = 0;
}

void uart_putc(char c) { /* kprintf's sink (common/printf.c) */
  line_out[line_len++] = c;
  if (c == '\n' || line_len == sizeof line_out) flush_out();
}

void uart_puts(const char *s) {
  while (*s) uart_putc(*s++);
}

int uart_getc(void) {
  volatile uint8_t *ring = (volatile uint8_t *)(pv.console_gfn << 12);
  volatile uint32_t *cons = (volatile uint32_t *)(ring + 3072), *prod = (volatile uint32_t *)(ring + 3076);
  uint32_t c = *cons;
  if (c == *prod) return -1;
  __asm__ volatile("fence r,r" ::: "memory");
  int ch = ring[c & 1023];
  *cons = c + 1;
  return ch;
}

/* Clear our pending events, then block unless input is already there. */
static void wait_input(void) {
  volatile uint8_t *si = (volatile uint8_t *)pv.shared_info;
  volatile uint32_t *ring = (volatile uint32_t *)((pv.console_gfn << 12) + 3072);
  si[0] = 0;                                       /* vcpu_info[0].evtchn_upcall_pending */
  __atomic_store_n((uint32_t *)(si + 4), 0, __ATOMIC_SEQ_CST);       /* evtchn_pending_sel */
  __atomic_store_n((uint32_t *)(si + 2048), 0, __ATOMIC_SEQ_CST);    /* evtchn_pending[0] */
  if (ring[0] != ring[1]) return;
  hypercall(HC_sched_op, SCHEDOP_block, 0, 0);
}

/* ---- the trap handler ------------------------------------------------------------ */

extern char probe_read_insn[], probe_write_insn[], restart_shell[];

void hostile_trap(struct trap_frame *f) {
  if (f->epc == (uint32_t)probe_read_insn) {
    *(int *)f->regs[11] = -1;
    f->regs[10] = 0;
    f->epc = f->regs[1];
    return;
  }
  if (f->epc == (uint32_t)probe_write_insn) {
    f->regs[10] = (uint32_t)-1;
    f->epc = f->regs[1];
    return;
  }
  line_len = 0;
  kprintf("= fault cause=%u epc=0x%x tval=0x%x\n", f->cause, f->epc, f->tval);
  f->epc = (uint32_t)restart_shell;
}

/* ---- the shell ------------------------------------------------------------------- */

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

static uint32_t parse_num(const char *s) {
  uint32_t v = 0, base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s += 2;
  for (; *s; s++) {
    uint32_t d = *s >= '0' && *s <= '9' ? (uint32_t)(*s - '0') : *s >= 'a' && *s <= 'f' ? (uint32_t)(*s - 'a' + 10)
               : *s >= 'A' && *s <= 'F' ? (uint32_t)(*s - 'A' + 10) : 99;
    if (d >= base) break;
    v = v * base + d;
  }
  return v;
}

#define MAX_ARGS 12
static char line[256];
static char *words[MAX_ARGS + 1];
static uint32_t nums[MAX_ARGS];

static int read_line(void) {
  uint32_t n = 0;
  for (;;) {
    int c = uart_getc();
    if (c < 0) {
      evtchn_send(pv.console_port); /* room in in[]: the backend feeds what it still holds */
      wait_input();
      continue;
    }
    if (c == '\r') continue;
    if (c == '\n') break;
    if (n < sizeof line - 1) line[n++] = (char)c;
  }
  line[n] = 0;
  int argc = 0;
  char *p = line;
  while (*p && argc <= MAX_ARGS) {
    while (*p == ' ') *p++ = 0;
    if (!*p) break;
    words[argc++] = p;
    while (*p && *p != ' ') p++;
  }
  return argc;
}

/* fill / check GFN COUNT BYTE: every byte of COUNT pages from GFN. */
static void cmd_fill(const uint32_t *a, int check) {
  uint32_t word = (a[2] & 0xff) * 0x01010101u, bad = 0, first = 0;
  for (uint32_t g = a[0]; g < a[0] + a[1]; g++) {
    volatile uint32_t *p = (volatile uint32_t *)(g << 12);
    for (uint32_t i = 0; i < PAGE_SIZE / 4; i++) {
      if (!check) p[i] = word;
      else if (p[i] != word && !bad++) first = g;
    }
  }
  if (check) kprintf("= ok check bad=%u first=0x%x\n", bad, first);
  else kprintf("= ok fill\n");
}

/* xs-watch PATH TOKEN: one XS_WATCH request on our xenstore ring; the replies are eaten. */
static void cmd_xs_watch(const char *path, const char *token) {
  volatile uint8_t *r = (volatile uint8_t *)(pv.store_gfn << 12);
  volatile uint32_t *idx = (volatile uint32_t *)(r + 2048); /* req_cons, req_prod, rsp_cons, rsp_prod */
  uint32_t plen = strlen(path) + 1, tlen = strlen(token) + 1;
  uint32_t hdr[4] = {4 /* XS_WATCH */, 0x4057, 0, plen + tlen};
  uint32_t prod = idx[1];
  const uint8_t *parts[3] = {(const uint8_t *)hdr, (const uint8_t *)path, (const uint8_t *)token};
  uint32_t lens[3] = {16, plen, tlen};
  for (int k = 0; k < 3; k++)
    for (uint32_t i = 0; i < lens[k]; i++) r[(prod++) & 1023] = parts[k][i];
  __asm__ volatile("fence w,w" ::: "memory");
  idx[1] = prod;
  evtchn_send(pv.store_port);
  uint32_t got = 0;
  for (int i = 0; i < 2000 && idx[3] == idx[2]; i++) yield();
  got = idx[3] - idx[2];
  idx[2] = idx[3];
  kprintf("= ok xs-watch rsp=%u\n", got);
}

static void run(int argc) {
  const char *c = words[0];
  int n = argc - 1;
  for (int i = 0; i < n && i < MAX_ARGS; i++) nums[i] = parse_num(words[i + 1]);
  int16_t st = 0;
  uint32_t h = 0;
  if (streq(c, "fill") && n >= 3) cmd_fill(nums, 0);
  else if (streq(c, "check") && n >= 3) cmd_fill(nums, 1);
  else if (streq(c, "read") && n >= 2) {
    int ok;
    uint32_t v = probe_read((nums[0] << 12) + nums[1], &ok);
    if (ok) kprintf("= fault read\n");
    else kprintf("= ok read val=0x%x\n", v);
  } else if (streq(c, "write") && n >= 3) {
    if (probe_write((nums[0] << 12) + nums[1], nums[2])) kprintf("= fault write\n");
    else kprintf("= ok write\n");
  } else if (streq(c, "grant") && n >= 3) {
    int rc = gnt_grant(nums[0], nums[1], nums[2], n >= 4 && streq(words[4], "ro"));
    kprintf("= ok grant rc=%d\n", rc);
  } else if (streq(c, "ungrant") && n >= 1) {
    uint32_t seen = 0;
    int rc = gnt_end(nums[0], &seen);
    kprintf("= ok ungrant rc=%d word=0x%x%s\n", rc, seen, rc ? " busy" : "");
  } else if (streq(c, "gntword") && n >= 1) {
    kprintf("= ok gntword word=0x%x frame=0x%x\n", pv.gnttab[2 * nums[0]], pv.gnttab[2 * nums[0] + 1]);
  } else if (streq(c, "map") && n >= 3) {
    int32_t rc = gnt_map(nums[0], nums[1], nums[2], n >= 4 && streq(words[4], "ro"), &st, &h);
    kprintf("= ok map rc=%d status=%d handle=%u\n", rc, st, h);
  } else if (streq(c, "unmap") && n >= 2) {
    int32_t rc = gnt_unmap(nums[0], nums[1], &st);
    kprintf("= ok unmap rc=%d status=%d\n", rc, st);
  } else if (streq(c, "balloon-out") && n >= 1) {
    kprintf("= ok balloon-out rc=%d\n", reservation(XENMEM_decrease_reservation, nums[0]));
  } else if (streq(c, "populate") && n >= 1) {
    kprintf("= ok populate rc=%d\n", reservation(XENMEM_increase_reservation, nums[0]));
  } else if (streq(c, "copy") && n >= 8) { /* copy FLAGS SREF SDOM SOFF DREF DDOM DOFF LEN */
    int32_t rc = gnt_copy(nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6], nums[7], &st);
    kprintf("= ok copy rc=%d status=%d\n", rc, st);
  } else if (streq(c, "info")) {
    kprintf("= ok info nr_pages=%u start=0x%x shared=0x%x store=0x%x console=0x%x gnttab=0x%x entries=%u counter=0x%x\n",
            pv.nr_pages, pv.start_info >> 12, pv.shared_info >> 12, pv.store_gfn, pv.console_gfn, pv.gnttab_gfn,
            pv.gnttab_entries, (uint32_t)&spin_counter);
  } else if (streq(c, "xs-watch") && n >= 2) {
    cmd_xs_watch(words[1], words[2]);
  } else if (streq(c, "xs-kick")) {
    evtchn_send(pv.store_port);
    kprintf("= ok xs-kick\n");
  } else if (streq(c, "vcpu-up") && n >= 1) { /* vcpu-up ID: it spins in spin_entry */
    uint32_t arg[2] = {(uint32_t)spin_entry, 0};
    kprintf("= ok vcpu-up rc=%d\n", hypercall(HC_vcpu_op, VCPUOP_up, nums[0], (uint32_t)arg));
  } else if (streq(c, "counter")) {
    kprintf("= ok counter val=%u\n", spin_counter);
  } else if (streq(c, "shutdown") && n >= 1) {
    uint32_t reason = nums[0];
    kprintf("= ok shutdown\n");
    hypercall(HC_sched_op, SCHEDOP_shutdown, (uint32_t)&reason, 0);
    for (;;) spin_counter++; /* vCPU 0 keeps running if the hypervisor lets it */
  } else if (streq(c, "race-granter")) cmd_race_granter(nums, n);
  else if (streq(c, "race-mapper")) cmd_race_mapper(nums, n);
  else if (streq(c, "race-copier")) cmd_race_copier(nums, n);
  else if (streq(c, "fuzz")) cmd_fuzz(nums, n);
  else if (streq(c, "blk-ring")) cmd_blk_ring(nums, n);
  else if (streq(c, "blk-fuzz")) cmd_blk_fuzz(nums, n);
  else if (streq(c, "net-ring")) cmd_net_ring(nums, n);
  else if (streq(c, "net-fuzz")) cmd_net_fuzz(nums, n);
  else if (streq(c, "net-storm")) cmd_net_storm(nums, n);
  else kprintf("= error unknown command or missing arguments: %s\n", c);
}

void shell_loop(void) {
  for (;;) {
    kprintf("> \n");
    int argc = read_line();
    if (argc) run(argc);
  }
}

void hostile_main(uint32_t vcpu, uint32_t start_info) {
  (void)vcpu;
  volatile uint32_t *si = (volatile uint32_t *)start_info;
  pv.start_info = start_info;
  pv.nr_pages = si[8];
  pv.shared_info = si[9];
  pv.store_gfn = si[11];
  pv.store_port = si[12];
  pv.console_gfn = si[13];
  pv.console_port = si[14];
  /* setup_table: { domid_t dom; u32 nr_frames; i16 status; handle frame_list } */
  uint32_t frames[1] = {0};
  struct { uint16_t dom, pad; uint32_t nr; int16_t status, pad2; uint32_t list; } op = {DOMID_SELF, 0, 1, -1, 0, (uint32_t)frames};
  int32_t rc = hypercall(HC_grant_table_op, GNTTABOP_setup_table, (uint32_t)&op, 1);
  if (!rc && !op.status) {
    pv.gnttab_gfn = frames[0];
    pv.gnttab = (volatile uint32_t *)(frames[0] << 12);
    pv.gnttab_entries = PAGE_SIZE / 8;
  }
  kprintf("hostile: pv guest up, %u pages, grant table at 0x%x (rc %d status %d)\n", pv.nr_pages, pv.gnttab_gfn, rc,
          op.status);
  shell_loop();
}
