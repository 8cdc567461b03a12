/**
 * NS16550A UART, modelled on QEMU's hw/char/serial.c as the riscv `virt` machine
 * instantiates it (serial_mm_init with regshift 0: eight byte-wide registers at
 * offsets 0..7 of a 0x100 window, interrupt 10 on the PLIC).
 *
 * Transmission is instantaneous, as in QEMU with a character backend that accepts
 * every write: a THR write hands the byte to `onTransmit` and the holding register is
 * empty again before the guest's next instruction. Reception is driven by the host
 * through `receive`/`canReceive` (QEMU's serial_receive1/serial_can_receive).
 *
 * The character-timeout interrupt (IIR 0xC) needs time. Given a Clock, a byte left in
 * the FIFO below the trigger level raises it four character times after the last FIFO
 * activity (serial.c fifo_timeout_int); the host calls `update()` to let time act and
 * can ask `nextDeadline()` when to call it. Without a Clock the timeout fires on the
 * next `update()`.
 */
import type { AccessWidth, Clock, IrqLine, MmioDevice } from '../bus/mmio';
import { VIRT_UART0_CLOCK, VIRT_UART0_SIZE } from '../board/memoryMap';

/** Register offsets (regshift 0). DLL/DLM overlay RBR/IER when LCR.DLAB is set. */
export const UART_RBR = 0,
  UART_THR = 0,
  UART_DLL = 0;
export const UART_IER = 1,
  UART_DLM = 1;
export const UART_IIR = 2,
  UART_FCR = 2;
export const UART_LCR = 3,
  UART_MCR = 4,
  UART_LSR = 5,
  UART_MSR = 6,
  UART_SCR = 7;

const IER_RDI = 0x01,
  IER_THRI = 0x02,
  IER_RLSI = 0x04,
  IER_MSI = 0x08;
const IIR_NO_INT = 0x01,
  IIR_ID = 0x06,
  IIR_MSI = 0x00,
  IIR_THRI = 0x02,
  IIR_RDI = 0x04;
const IIR_RLSI = 0x06,
  IIR_CTI = 0x0c,
  IIR_FE = 0xc0;
const FCR_FE = 0x01,
  FCR_RFR = 0x02,
  FCR_XFR = 0x04;
const LCR_DLAB = 0x80;
const MCR_OUT2 = 0x08,
  MCR_LOOP = 0x10;
const LSR_DR = 0x01,
  LSR_OE = 0x02,
  LSR_BI = 0x10,
  LSR_THRE = 0x20,
  LSR_TEMT = 0x40;
/** LSR bits that raise the receiver-line-status interrupt (UART_LSR_INT_ANY). */
const LSR_INT_ANY = 0x1e;
const MSR_CTS = 0x10,
  MSR_DSR = 0x20,
  MSR_DCD = 0x80,
  MSR_ANY_DELTA = 0x0f;
/** 16550A FIFO depth (UART_FIFO_LENGTH). */
export const UART_FIFO_LENGTH = 16;
/** RX trigger levels selected by FCR bits 7:6. */
const FIFO_TRIGGER_LEVELS = [1, 4, 8, 14] as const;

export interface Uart16550Options {
  /** Trace name; default "uart0". */
  name?: string;
  /** Window size in bytes; default VIRT_UART0_SIZE (0x100). */
  size?: number;
  /** Interrupt output (a PLIC source). */
  irq?: IrqLine;
  /** Receives every transmitted byte (not called in loopback mode). */
  onTransmit?: (byte: number) => void;
  /** Time base for the character timeout; see the file comment. */
  clock?: Clock;
  /** UART input clock in Hz, used to derive the baud rate; default 3686400. */
  inputClock?: number;
}

/** Register state for save/restore. */
export interface Uart16550State {
  rbr: number;
  ier: number;
  iir: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  fcr: number;
  divider: number;
  triggerLevel: number;
  thrPending: boolean;
  timeoutPending: boolean;
  timeoutDeadline: number | null;
  rxFifo: number[];
}

export class Uart16550 implements MmioDevice {
  readonly name: string;
  readonly size: number;
  private readonly irq: IrqLine | undefined;
  private readonly onTransmit: (byte: number) => void;
  private readonly clock: Clock | undefined;
  private readonly inputClock: number;

  private rbr = 0;
  private ier = 0;
  private iir = IIR_NO_INT;
  private lcr = 0;
  private mcr = MCR_OUT2;
  private lsr = LSR_TEMT | LSR_THRE;
  private msr = MSR_DCD | MSR_DSR | MSR_CTS;
  private scr = 0;
  private fcr = 0;
  /** Divisor latch; 0x0C = 9600 baud at QEMU's nominal 1.8432 MHz (serial_reset). */
  private divider = 0x0c;
  private triggerLevel = 1;
  /** QEMU's thr_ipending: the THRE interrupt condition, separately clearable. */
  private thrPending = false;
  private timeoutPending = false;
  /** Clock tick at which the character timeout fires, or null when not armed. */
  private timeoutDeadline: number | null = null;
  private rxFifo: number[] = [];
  private irqLevel = false;

  constructor(options: Uart16550Options = {}) {
    this.name = options.name ?? 'uart0';
    this.size = options.size ?? VIRT_UART0_SIZE;
    this.irq = options.irq;
    this.onTransmit = options.onTransmit ?? (() => {});
    this.clock = options.clock;
    this.inputClock = options.inputClock ?? VIRT_UART0_CLOCK;
  }

  /** Register values after reset (serial.c serial_reset). */
  reset(): void {
    this.restore({
      rbr: 0,
      ier: 0,
      iir: IIR_NO_INT,
      lcr: 0,
      mcr: MCR_OUT2,
      lsr: LSR_TEMT | LSR_THRE,
      msr: MSR_DCD | MSR_DSR | MSR_CTS,
      scr: 0,
      fcr: 0,
      divider: 0x0c,
      triggerLevel: 1,
      thrPending: false,
      timeoutPending: false,
      timeoutDeadline: null,
      rxFifo: [],
    });
  }

  // ---- host side -------------------------------------------------------------------

  /**
   * Whether `receive` would accept a byte now. In loopback mode the serial input is
   * disconnected, so the host holds its bytes until the guest leaves loopback.
   */
  canReceive(): boolean {
    if (this.mcr & MCR_LOOP) return false;
    if (this.fcr & FCR_FE) return this.rxFifo.length < UART_FIFO_LENGTH;
    return (this.lsr & LSR_DR) === 0;
  }

  /** Offer one byte from the outside world. Returns false (byte not taken) when full. */
  receive(byte: number): boolean {
    if (!this.canReceive()) return false;
    this.receiveByte(byte & 0xff);
    return true;
  }

  /** Let time act on the character timeout. Cheap; call it whenever convenient. */
  update(): void {
    if (this.timeoutDeadline === null || this.timeoutPending) return;
    if (this.now() < this.timeoutDeadline) return;
    this.timeoutDeadline = null;
    if (this.rxFifo.length > 0) {
      this.timeoutPending = true;
      this.updateIrq();
    }
  }

  /** Clock tick at which `update()` has work to do, or Infinity. */
  nextDeadline(): number {
    return this.timeoutPending || this.timeoutDeadline === null ? Infinity : this.timeoutDeadline;
  }

  // ---- guest side ------------------------------------------------------------------

  read(offset: number, _width: AccessWidth): number {
    switch (offset) {
      case UART_RBR:
        if (this.lcr & LCR_DLAB) return this.divider & 0xff;
        return this.readRbr();
      case UART_IER:
        return this.lcr & LCR_DLAB ? (this.divider >> 8) & 0xff : this.ier;
      case UART_IIR: {
        const iir = this.iir;
        // Reading IIR while THRE is the reported source acknowledges it (serial.c).
        if ((iir & IIR_ID) === IIR_THRI) {
          this.thrPending = false;
          this.updateIrq();
        }
        return iir;
      }
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR: {
        const lsr = this.lsr;
        // Reading LSR clears the break and overrun indications.
        if (lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.updateIrq();
        }
        return lsr;
      }
      case UART_MSR:
        return this.readMsr();
      case UART_SCR:
        return this.scr;
      default:
        return 0; // offsets 8..0xff: QEMU maps only 8 bytes
    }
  }

  write(offset: number, _width: AccessWidth, value: number): void {
    const val = value & 0xff;
    switch (offset) {
      case UART_THR:
        if (this.lcr & LCR_DLAB) this.divider = (this.divider & 0xff00) | val;
        else this.writeThr(val);
        break;
      case UART_IER:
        if (this.lcr & LCR_DLAB) this.divider = (this.divider & 0x00ff) | (val << 8);
        else this.writeIer(val);
        break;
      case UART_FCR:
        this.writeFcr(val);
        break;
      case UART_LCR:
        this.lcr = val;
        break;
      case UART_MCR:
        this.mcr = val & 0x1f;
        break;
      case UART_SCR:
        this.scr = val;
        break;
      default:
        break; // LSR and MSR are read-only
    }
  }

  // ---- register behaviour ----------------------------------------------------------

  private readRbr(): number {
    let ret: number;
    if (this.fcr & FCR_FE) {
      ret = this.rxFifo.shift() ?? 0;
      if (this.rxFifo.length === 0) {
        this.lsr &= ~(LSR_DR | LSR_BI);
        this.timeoutDeadline = null;
      } else {
        this.armTimeout();
      }
      this.timeoutPending = false;
    } else {
      ret = this.rbr;
      this.lsr &= ~(LSR_DR | LSR_BI);
    }
    this.updateIrq();
    return ret;
  }

  private readMsr(): number {
    if (this.mcr & MCR_LOOP) {
      // Loopback: OUT2->DCD, OUT1->RI, RTS->CTS, DTR->DSR (serial.c).
      return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
    }
    const msr = this.msr;
    if (msr & MSR_ANY_DELTA) {
      this.msr &= 0xf0;
      this.updateIrq();
    }
    return msr;
  }

  private writeThr(val: number): void {
    this.thrPending = false;
    this.lsr &= ~(LSR_THRE | LSR_TEMT);
    this.updateIrq();
    // serial_xmit: the byte leaves at once (or loops back to the receiver).
    if (this.mcr & MCR_LOOP) this.receiveByte(val);
    else this.onTransmit(val);
    this.lsr |= LSR_THRE | LSR_TEMT;
    this.thrPending = true;
    this.updateIrq();
  }

  private writeIer(val: number): void {
    const changed = (this.ier ^ val) & 0x0f;
    this.ier = val & 0x0f;
    // Turning ETBEI on with THR empty raises THRE again even if it was acknowledged
    // through IIR (serial.c: "Windows relies on it"); turning it off forgets it.
    if (changed & IER_THRI) {
      this.thrPending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
    }
    if (changed) this.updateIrq();
  }

  private writeFcr(val: number): void {
    // Toggling FIFO enable flushes both FIFOs.
    if ((val ^ this.fcr) & FCR_FE) val |= FCR_XFR | FCR_RFR;
    if (val & FCR_RFR) {
      this.lsr &= ~(LSR_DR | LSR_BI);
      this.timeoutDeadline = null;
      this.timeoutPending = false;
      this.rxFifo = [];
    }
    if (val & FCR_XFR) {
      // Nothing is ever queued for transmit, so THR is empty already.
      this.lsr |= LSR_THRE;
      this.thrPending = true;
    }
    // Only FIFO enable and the trigger level stick (serial_write_fcr, val & 0xC9).
    this.fcr = val & 0xc9;
    if (this.fcr & FCR_FE) {
      this.iir |= IIR_FE;
      this.triggerLevel = FIFO_TRIGGER_LEVELS[(val >> 6) & 3] ?? 1;
    } else {
      this.iir &= ~IIR_FE;
    }
    this.updateIrq();
  }

  /** serial_receive1: one byte arrives at the receiver (from the host or loopback). */
  private receiveByte(byte: number): void {
    if (this.fcr & FCR_FE) {
      // Receive overruns do not overwrite FIFO contents.
      if (this.rxFifo.length < UART_FIFO_LENGTH) this.rxFifo.push(byte);
      else this.lsr |= LSR_OE;
      this.lsr |= LSR_DR;
      this.armTimeout();
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = byte;
      this.lsr |= LSR_DR;
    }
    this.updateIrq();
  }

  /**
   * serial_update_irq: IIR reports the highest-priority enabled condition: receiver
   * line status, then character timeout, then received data (at the trigger level
   * when FIFOs are on), then THR empty, then modem status. The modem-status deltas are
   * never set here: like QEMU with a non-tty backend, the modem lines never change.
   */
  private updateIrq(force = false): void {
    let id = IIR_NO_INT;
    if (this.ier & IER_RLSI && this.lsr & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (this.ier & IER_RDI && this.timeoutPending) {
      id = IIR_CTI;
    } else if (this.ier & IER_RDI && this.lsr & LSR_DR && (!(this.fcr & FCR_FE) || this.rxFifo.length >= this.triggerLevel)) {
      id = IIR_RDI;
    } else if (this.ier & IER_THRI && this.thrPending) {
      id = IIR_THRI;
    } else if (this.ier & IER_MSI && this.msr & MSR_ANY_DELTA) {
      id = IIR_MSI;
    }
    this.iir = id | (this.iir & 0xf0);
    const level = id !== IIR_NO_INT;
    if (level !== this.irqLevel || force) {
      this.irqLevel = level;
      this.irq?.set(level);
    }
  }

  private now(): number {
    return this.clock ? this.clock.now() : 0;
  }

  /** Arm the character timeout four character times from now (serial.c). */
  private armTimeout(): void {
    this.timeoutDeadline = this.clock ? this.clock.now() + 4 * this.charTicks() : 0;
  }

  /** One character's time on the wire, in clock ticks, from LCR and the divisor. */
  private charTicks(): number {
    const clock = this.clock;
    if (!clock) return 0;
    const divider = this.divider || 1;
    const baud = this.inputClock / (16 * divider);
    // start bit + 5..8 data bits + optional parity + 1 or 2 stop bits
    const bits = 1 + ((this.lcr & 0x03) + 5) + (this.lcr & 0x08 ? 1 : 0) + (this.lcr & 0x04 ? 2 : 1);
    return Math.ceil((bits / baud) * clock.frequency);
  }

  // ---- save/restore ----------------------------------------------------------------

  saveState(): Uart16550State {
    return {
      rbr: this.rbr,
      ier: this.ier,
      iir: this.iir,
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: this.lsr,
      msr: this.msr,
      scr: this.scr,
      fcr: this.fcr,
      divider: this.divider,
      triggerLevel: this.triggerLevel,
      thrPending: this.thrPending,
      timeoutPending: this.timeoutPending,
      timeoutDeadline: this.timeoutDeadline,
      rxFifo: [...this.rxFifo],
    };
  }

  restore(s: Uart16550State): void {
    this.rbr = s.rbr;
    this.ier = s.ier;
    this.iir = s.iir;
    this.lcr = s.lcr;
    this.mcr = s.mcr;
    this.lsr = s.lsr;
    this.msr = s.msr;
    this.scr = s.scr;
    this.fcr = s.fcr;
    this.divider = s.divider;
    this.triggerLevel = s.triggerLevel;
    this.thrPending = s.thrPending;
    this.timeoutPending = s.timeoutPending;
    this.timeoutDeadline = s.timeoutDeadline;
    this.rxFifo = s.rxFifo.slice(0, UART_FIFO_LENGTH);
    this.updateIrq(true);
  }
}
