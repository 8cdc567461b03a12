import { describe, expect, it } from 'vitest';
import type { Clock } from '../bus/mmio';
import { Uart16550, UART_DLL, UART_DLM, UART_FCR, UART_IER, UART_IIR, UART_LCR, UART_LSR, UART_MCR, UART_MSR, UART_RBR, UART_SCR, UART_THR } from './uart16550';

function setup(withClock = false) {
  const levels: boolean[] = [];
  const sent: number[] = [];
  let t = 0;
  const clock: Clock = { frequency: 10_000_000, now: () => t };
  const uart = new Uart16550({
    irq: { set: (l) => levels.push(l) },
    onTransmit: (b) => sent.push(b),
    ...(withClock ? { clock } : {}),
  });
  const rd = (off: number) => uart.read(off, 1);
  const wr = (off: number, v: number) => uart.write(off, 1, v);
  const irq = () => levels[levels.length - 1] ?? false;
  return {
    uart,
    levels,
    sent,
    rd,
    wr,
    irq,
    advance: (d: number) => {
      t += d;
    },
    now: () => t,
  };
}

describe('Uart16550 registers', () => {
  it('has the reset values of serial.c serial_reset', () => {
    const { rd, uart } = setup();
    expect(uart.name).toBe('uart0');
    expect(uart.size).toBe(0x100);
    expect(rd(UART_LSR)).toBe(0x60);
    expect(rd(UART_IIR)).toBe(0x01);
    expect(rd(UART_MSR)).toBe(0xb0);
    expect(rd(UART_MCR)).toBe(0x08);
    expect(rd(UART_IER)).toBe(0);
    expect(rd(UART_LCR)).toBe(0);
    expect(rd(0x10)).toBe(0);
  });

  it('transmits THR writes immediately and keeps LSR.THRE|TEMT set', () => {
    const { rd, wr, sent } = setup();
    for (const c of 'hi\n') wr(UART_THR, c.charCodeAt(0));
    expect(String.fromCharCode(...sent)).toBe('hi\n');
    expect(rd(UART_LSR) & 0x60).toBe(0x60);
  });

  it('accepts wide accesses as one byte register access', () => {
    const { uart, sent } = setup();
    uart.write(UART_THR, 4, 0x1234_5641);
    expect(sent).toEqual([0x41]);
    expect(uart.read(UART_LSR, 4)).toBe(0x60);
  });

  it('overlays the divisor latch on RBR/IER under LCR.DLAB', () => {
    const { rd, wr, sent } = setup();
    expect(rd(UART_LCR)).toBe(0);
    wr(UART_LCR, 0x83);
    expect(rd(UART_DLL)).toBe(0x0c);
    expect(rd(UART_DLM)).toBe(0x00);
    wr(UART_DLL, 0x01);
    wr(UART_DLM, 0x02);
    expect(rd(UART_DLL)).toBe(0x01);
    expect(rd(UART_DLM)).toBe(0x02);
    expect(sent).toEqual([]);
    wr(UART_LCR, 0x03);
    expect(rd(UART_IER)).toBe(0);
    expect(rd(UART_LCR)).toBe(0x03);
  });

  it('keeps the scratch register', () => {
    const { rd, wr } = setup();
    wr(UART_SCR, 0xa5);
    expect(rd(UART_SCR)).toBe(0xa5);
  });
});

describe('Uart16550 THRE interrupt (QEMU semantics)', () => {
  it('raises when ETBEI is enabled with THR empty and clears on IIR read', () => {
    const { rd, wr, irq } = setup();
    wr(UART_IER, 0x02);
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0x02);
    expect(irq()).toBe(false);
    expect(rd(UART_IIR)).toBe(0x01);
  });

  it('is cleared by a THR write and raised again once the byte has gone', () => {
    const { rd, wr, levels, irq } = setup();
    wr(UART_IER, 0x02);
    rd(UART_IIR);
    levels.length = 0;
    wr(UART_THR, 0x41);
    expect(levels).toEqual([true]);
    expect(irq()).toBe(true);
  });

  it('re-arms when ETBEI is toggled off and on', () => {
    const { rd, wr, irq } = setup();
    wr(UART_IER, 0x02);
    rd(UART_IIR);
    expect(irq()).toBe(false);
    wr(UART_IER, 0x02); // unchanged: stays acknowledged
    expect(irq()).toBe(false);
    wr(UART_IER, 0x00);
    wr(UART_IER, 0x02);
    expect(irq()).toBe(true);
  });
});

describe('Uart16550 receive without FIFO', () => {
  it('holds one byte, refuses a second, raises RDA', () => {
    const { uart, rd, wr, irq } = setup();
    expect(uart.canReceive()).toBe(true);
    expect(uart.receive(0x61)).toBe(true);
    expect(uart.canReceive()).toBe(false);
    expect(uart.receive(0x62)).toBe(false);
    expect(rd(UART_LSR) & 0x01).toBe(1);
    expect(irq()).toBe(false);
    wr(UART_IER, 0x01);
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0x04);
    expect(rd(UART_RBR)).toBe(0x61);
    expect(irq()).toBe(false);
    expect(rd(UART_LSR) & 0x01).toBe(0);
    expect(uart.canReceive()).toBe(true);
  });

  it('prefers RDA over THRE', () => {
    const { uart, rd, wr } = setup();
    wr(UART_IER, 0x03);
    uart.receive(0x61);
    expect(rd(UART_IIR)).toBe(0x04);
    rd(UART_RBR);
    expect(rd(UART_IIR)).toBe(0x02);
  });
});

describe('Uart16550 FIFO mode', () => {
  it('shows FIFO bits in IIR and buffers 16 bytes', () => {
    const { uart, rd, wr } = setup();
    wr(UART_FCR, 0x07);
    expect(rd(UART_IIR)).toBe(0xc1);
    for (let i = 0; i < 16; i++) expect(uart.receive(0x30 + i)).toBe(true);
    expect(uart.canReceive()).toBe(false);
    expect(uart.receive(0x99)).toBe(false);
    const got: number[] = [];
    while (rd(UART_LSR) & 0x01) got.push(rd(UART_RBR));
    expect(got).toEqual(Array.from({ length: 16 }, (_, i) => 0x30 + i));
    expect(rd(UART_LSR) & 0x02).toBe(0); // host bytes never overrun
    wr(UART_FCR, 0x00);
    expect(rd(UART_IIR)).toBe(0x01);
  });

  it('raises RDA at the trigger level only', () => {
    const { uart, rd, wr, irq } = setup();
    wr(UART_FCR, 0x41); // FIFO on, trigger level 4
    wr(UART_IER, 0x01);
    for (let i = 0; i < 3; i++) uart.receive(i);
    expect(irq()).toBe(false);
    uart.receive(3);
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0xc4);
  });

  it('raises the character timeout four character times after the last byte', () => {
    const { uart, rd, wr, irq, advance } = setup(true);
    wr(UART_LCR, 0x03); // 8N1
    wr(UART_FCR, 0xc1); // trigger level 14
    wr(UART_IER, 0x01);
    uart.receive(0x41);
    const deadline = uart.nextDeadline();
    // 10-bit frames at 3686400/(16*12) = 19200 baud: 4 chars = 2.083 ms = 20834 ticks
    expect(deadline).toBe(4 * Math.ceil((10 / 19200) * 10_000_000));
    advance(deadline - 1);
    uart.update();
    expect(irq()).toBe(false);
    advance(1);
    uart.update();
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0xcc);
    expect(uart.nextDeadline()).toBe(Infinity);
    expect(rd(UART_RBR)).toBe(0x41);
    expect(irq()).toBe(false);
    expect(uart.nextDeadline()).toBe(Infinity);
  });

  it('fires the timeout on the next update without a clock', () => {
    const { uart, wr, rd, irq } = setup(false);
    wr(UART_FCR, 0xc1);
    wr(UART_IER, 0x01);
    uart.receive(0x41);
    expect(irq()).toBe(false);
    uart.update();
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0xcc);
  });

  it('flushes the receive FIFO on FCR.RFR', () => {
    const { uart, rd, wr } = setup();
    wr(UART_FCR, 0x01);
    uart.receive(1);
    uart.receive(2);
    wr(UART_FCR, 0x03);
    expect(rd(UART_LSR) & 0x01).toBe(0);
    expect(uart.canReceive()).toBe(true);
  });
});

describe('Uart16550 loopback', () => {
  it('loops THR to RBR, mirrors MCR into MSR and ignores the host', () => {
    const { uart, rd, wr, sent } = setup();
    wr(UART_MCR, 0x10 | 0x0b); // LOOP | OUT2 | RTS | DTR
    expect(rd(UART_MSR)).toBe(0x80 | 0x10 | 0x20);
    expect(uart.canReceive()).toBe(false);
    expect(uart.receive(0x55)).toBe(false);
    wr(UART_THR, 0x42);
    expect(sent).toEqual([]);
    expect(rd(UART_LSR) & 0x01).toBe(1);
    expect(rd(UART_RBR)).toBe(0x42);
  });

  it('reports overrun as a line-status interrupt with top priority', () => {
    const { rd, wr, irq } = setup();
    wr(UART_MCR, 0x10);
    wr(UART_IER, 0x07);
    wr(UART_THR, 1);
    wr(UART_THR, 2); // overruns the one-byte holding register
    expect(irq()).toBe(true);
    expect(rd(UART_IIR)).toBe(0x06);
    expect(rd(UART_LSR) & 0x02).toBe(0x02);
    expect(rd(UART_LSR) & 0x02).toBe(0); // cleared by the previous read
    expect(rd(UART_IIR)).toBe(0x04);
    expect(rd(UART_RBR)).toBe(2);
  });
});

describe('Uart16550 save/restore', () => {
  it('round-trips state and re-drives the interrupt line', () => {
    const a = setup();
    a.wr(UART_FCR, 0x01);
    a.wr(UART_IER, 0x01);
    a.uart.receive(7);
    a.uart.receive(8);
    const state = a.uart.saveState();
    const b = setup();
    b.uart.restore(JSON.parse(JSON.stringify(state)));
    expect(b.irq()).toBe(true);
    expect(b.rd(UART_RBR)).toBe(7);
    expect(b.rd(UART_RBR)).toBe(8);
    a.uart.reset();
    expect(a.irq()).toBe(false);
    expect(a.rd(UART_LSR)).toBe(0x60);
  });
});
