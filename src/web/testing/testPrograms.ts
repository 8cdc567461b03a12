/**
 * Tiny hand-assembled RV32I flat binaries for tests of the page and the runner: they
 * load at the start of RAM (0x80000000), where the `virt` board starts the hart.
 */

function image(words: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(words.length * 4);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => view.setUint32(i * 4, w >>> 0, true));
  return bytes;
}

/** `1: j 1b`: runs forever at full speed, never waits. */
export function spinImage(): Uint8Array {
  return image([0x0000006f]);
}

/**
 * Echo every byte the UART receives back to it. Sleeps in WFI between bytes: the UART's
 * receive interrupt goes through the PLIC to mie.MEIE, with mstatus.MIE left 0, so WFI
 * wakes without a trap (privileged spec 3.3.3) and the guest claims and completes it.
 */
export function echoImage(): Uint8Array {
  return image([
    0x100002b7, // lui   t0, 0x10000       UART0
    0x00100313, // li    t1, 1
    0x006280a3, // sb    t1, 1(t0)         IER.ERBFI
    0x0c000e37, // lui   t3, 0xc000        PLIC
    0x026e2423, // sw    t1, 40(t3)        priority[10] = 1
    0x0c002eb7, // lui   t4, 0xc002        enables of context 0 (hart 0, M)
    0x40000f13, // li    t5, 0x400
    0x01eea023, // sw    t5, 0(t4)         enable source 10
    0x0c200fb7, // lui   t6, 0xc200        context 0: threshold, claim
    0x000fa023, // sw    zero, 0(t6)
    0x00001f37, // lui   t5, 0x1
    0x800f0f13, // addi  t5, t5, -2048     t5 = MEIE
    0x304f2073, // csrs  mie, t5
    0x10500073, // 1: wfi
    0x004fa503, // lw    a0, 4(t6)         claim
    0x0052c583, // 2: lbu a1, 5(t0)        LSR
    0x0015f593, // andi  a1, a1, 1         DR
    0x00058863, // beqz  a1, 3f
    0x0002c603, // lbu   a2, 0(t0)         RBR
    0x00c28023, // sb    a2, 0(t0)         THR
    0xfedff06f, // j     2b
    0x00afa223, // 3: sw a0, 4(t6)         complete
    0xfddff06f, // j     1b
  ]);
}

/**
 * A valid RV32 ELF header whose two program headers lie past the end of the file, as in
 * a download cut short: the loader must refuse it with a message.
 */
export function truncatedElf(): Uint8Array {
  const bytes = new Uint8Array(64);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]); // ELFCLASS32, ELFDATA2LSB, EV_CURRENT
  v.setUint16(16, 2, true); // e_type ET_EXEC
  v.setUint16(18, 0xf3, true); // e_machine EM_RISCV
  v.setUint32(20, 1, true); // e_version
  v.setUint32(24, 0x8000_0000, true); // e_entry
  v.setUint32(28, 52, true); // e_phoff
  v.setUint16(40, 52, true); // e_ehsize
  v.setUint16(42, 32, true); // e_phentsize
  v.setUint16(44, 2, true); // e_phnum
  return bytes;
}
