/**
 * The one error a guest image loader throws: the image is not something hyperlab can
 * run, and `message` says why in one line a user can act on ("ELF is 64-bit; hyperlab
 * runs RV32 guests"). Loaders never let a RangeError or TypeError from a typed array
 * escape on bad input: every offset and size is checked before it is used.
 */
export class ImageError extends Error {
  override readonly name = 'ImageError';
}
