import { describe, expect, it } from 'vitest';
import { formatMac } from '../net/ethernet';
import { formatIp } from '../net/ipv4';
import { parseXlConfig } from './xlConfig';
import { formatVifSpec, parseRate, parseVifSpec, randomXenMac } from './xlVif';

describe('xl.cfg vif specs (xl-network-configuration)', () => {
  it("'' is all defaults: a random 00:16:3e MAC, xenbr0, mtu 1500, type vif", () => {
    let x = 0;
    const v = parseVifSpec('', () => [0.99, 0.5, 0.25][x++ % 3]!);
    expect(formatMac(v.mac)).toBe('00:16:3e:7d:80:40'); // 0xfd & 0x7f
    expect(v).toMatchObject({ macGiven: false, bridge: 'xenbr0', mtu: 1500, type: 'vif', ip: [] });
    for (let i = 0; i < 50; i++) expect(formatMac(randomXenMac()).startsWith('00:16:3e:')).toBe(true);
  });

  it('reads every key', () => {
    const v = parseVifSpec('mac=00:16:3E:12:34:56, bridge=xenbr1, ip=10.0.0.7 10.0.0.8, rate=10Mb/s@20ms, mtu=1400, type=ioemu, model=virtio-net, devid=3');
    expect(formatMac(v.mac)).toBe('00:16:3e:12:34:56');
    expect(v.bridge).toBe('xenbr1');
    expect(v.ip.map(formatIp)).toEqual(['10.0.0.7', '10.0.0.8']);
    expect(v.rate).toEqual({ bytes: 25_000, usec: 20_000, text: '10Mb/s@20ms' });
    expect(v).toMatchObject({ mtu: 1400, type: 'ioemu', model: 'virtio-net', devid: 3 });
    expect(formatVifSpec(v)).toBe('mac=00:16:3e:12:34:56,bridge=xenbr1,ip=10.0.0.7 10.0.0.8,rate=10Mb/s@20ms,mtu=1400,type=ioemu,model=virtio-net,devid=3');
  });

  it('rates: units per second, the interval 50ms by default', () => {
    expect(parseRate('1MB/s')).toEqual({ bytes: 50_000, usec: 50_000 });
    expect(parseRate('800Kb/s@1s')).toEqual({ bytes: 100_000, usec: 1_000_000 });
    expect(() => parseRate('100B/s@500us')).toThrow(/less than one byte/);
  });

  it('errors name the key', () => {
    expect(() => parseVifSpec('mac=00:16:3e:zz:00:01')).toThrow(/mac '00:16:3e:zz:00:01'/);
    expect(() => parseVifSpec('mac=01:00:5e:00:00:01')).toThrow(/multicast/);
    expect(() => parseVifSpec('colour=blue')).toThrow(/unknown key 'colour'/);
    expect(() => parseVifSpec('mtu=9000')).toThrow(/mtu must be between 68 and 1500/);
    expect(() => parseVifSpec('rate=fast')).toThrow(/rate 'fast'/);
    expect(() => parseVifSpec('ip=10.0.0.300')).toThrow(/ip '10.0.0.300'/);
    expect(() => parseVifSpec('bridge=xenbr0,bridge=xenbr1')).toThrow(/bridge is given twice/);
    expect(() => parseVifSpec('model=e1000')).toThrow(/model 'e1000'/);
    expect(() => parseVifSpec('mac')).toThrow(/not key=value/);
  });

  it('in a config: vif = [ ... ] with the line of the mistake', () => {
    const cfg = parseXlConfig("name = 'a'\nkernel = 'k'\nvif = [ 'mac=00:16:3e:00:00:01,ip=10.0.0.7', '' ]\n");
    expect(cfg.vif!.length).toBe(2);
    expect(cfg.vif![0]!.devid).toBe(0);
    expect(cfg.vif![1]!.devid).toBe(1);
    expect(() => parseXlConfig("name = 'a'\n\nvif = [ 'mtu=20' ]\n")).toThrow(/line 3: vif: mtu/);
    expect(() => parseXlConfig("vif = [ 'mac=00:16:3e:00:00:01', 'mac=00:16:3e:00:00:01' ]")).toThrow(/line 1: vif: mac 00:16:3e:00:00:01 is given twice/);
    expect(() => parseXlConfig("vif = [ 'devid=1', 'devid=1' ]")).toThrow(/line 1: vif: devid 1 is given twice/);
  });
});
