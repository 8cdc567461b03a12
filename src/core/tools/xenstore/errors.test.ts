import { describe, expect, it } from 'vitest';
import { isXsErrno, XenstoreError, XS_ERRNO_VALUES, XS_ERRNOS, xsFail } from './errors';

describe('xenstore errors', () => {
  it("are xs_wire.h's errno names (plus EPERM), and no EQUOTA", () => {
    expect(XS_ERRNOS.slice(0, 15)).toEqual([
      'EINVAL',
      'EACCES',
      'EEXIST',
      'EISDIR',
      'ENOENT',
      'ENOMEM',
      'ENOSPC',
      'EIO',
      'ENOTEMPTY',
      'ENOSYS',
      'EROFS',
      'EBUSY',
      'EAGAIN',
      'EISCONN',
      'E2BIG',
    ]);
    expect(isXsErrno('EPERM')).toBe(true);
    expect(isXsErrno('EQUOTA')).toBe(false);
    expect(Object.keys(XS_ERRNO_VALUES).sort()).toEqual([...XS_ERRNOS].sort());
  });

  it('carry the errno', () => {
    expect(() => xsFail('EAGAIN')).toThrow(XenstoreError);
    expect(() => xsFail('EAGAIN', 'busy')).toThrow(expect.objectContaining({ errno: 'EAGAIN', message: 'busy' }));
  });
});
