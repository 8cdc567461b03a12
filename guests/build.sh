#!/usr/bin/env bash
# Build every guest in guests/*/ (except common/) into NAME.elf, and the teaching OS
# (guests/teaching-os/: one kernel, two platform layers) into teaching-os-hvm.elf and
# teaching-os-pv.elf.
#
#   bash guests/build.sh              # -> public/guests/NAME.elf (the committed images)
#   bash guests/build.sh --out DIR    # -> DIR/NAME.elf (used by the reproducibility test)
#
# Builds are byte-for-byte reproducible: fixed flags, sorted inputs, paths relative to
# the repository root, no debug info, no build id. Environment overrides: CC, LD,
# LIBGCC (libgcc.a of the rv32im/ilp32 multilib, for 64-bit division).
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

OUT="public/guests"
if [[ "${1:-}" == "--out" ]]; then
  OUT="${2:?--out needs a directory}"
fi
mkdir -p "$OUT"
OBJ="$(mktemp -d)"
trap 'rm -rf "$OBJ"' EXIT

CC="${CC:-clang}"
LD="${LD:-ld.lld}"
LIBGCC="${LIBGCC:-/usr/lib/gcc/riscv64-unknown-elf/12.2.0/rv32im/ilp32/libgcc.a}"
[[ -f "$LIBGCC" ]] || { echo "build.sh: libgcc.a not found at $LIBGCC (apt install gcc-riscv64-unknown-elf)" >&2; exit 1; }

# rv32ima only: no compressed instructions anywhere (the hart has no C extension).
CFLAGS=(
  --target=riscv32-unknown-elf -march=rv32ima -mabi=ilp32 -mcmodel=medany -mno-relax
  -O2 -g0 -ffreestanding -nostdlib -fno-builtin -fno-common -fno-pic
  -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables
  -ffile-prefix-map="$ROOT"/= -Wall -Wextra -Werror=implicit-function-declaration
  -Iguests/common
)
LDFLAGS=(-nostdlib --no-relax --build-id=none --strip-debug --discard-locals -T guests/common/link.ld)

compile_dir() {  # compile_dir SRC_DIR OBJ_SUBDIR [EXTRA_CFLAGS...] -> prints object paths
  local src="$1" dst="$OBJ/$2" f o
  shift 2
  mkdir -p "$dst"
  for f in $(find "$src" -maxdepth 1 \( -name '*.c' -o -name '*.S' \) | LC_ALL=C sort); do
    o="$dst/$(basename "$f").o"
    "$CC" "${CFLAGS[@]}" -I"$src" "$@" -c "$f" -o "$o"
    echo "$o"
  done
}

common_objs=$(compile_dir guests/common common)
# A guest that brings its own crt0.S (an S-mode pv guest such as hostile/) also brings its
# console: it is linked without common/'s M-mode crt0.S and 16550 uart.c.
pv_common_objs=$(echo "$common_objs" | grep -v -e '/crt0\.S\.o$' -e '/uart\.c\.o$')
for dir in $(find guests -mindepth 1 -maxdepth 1 -type d ! -name common ! -name build ! -name teaching-os | LC_ALL=C sort); do
  name="$(basename "$dir")"
  [[ -n "$(find "$dir" -maxdepth 1 \( -name '*.c' -o -name '*.S' \))" ]] || continue
  objs=$(compile_dir "$dir" "$name")
  base="$common_objs"
  [[ -f "$dir/crt0.S" ]] && base="$pv_common_objs"
  # shellcheck disable=SC2086  # word splitting of object lists is intended
  "$LD" "${LDFLAGS[@]}" -o "$OUT/$name.elf" $base $objs "$LIBGCC"
  echo "built $OUT/$name.elf ($(stat -c %s "$OUT/$name.elf") bytes)"
done

# The teaching OS: kernel/ is compiled once and linked with each platform layer (hvm/:
# M-mode on the virt board; pv/: S-mode on hyperlab's paravirtual ABI) and with common/'s
# runtime, less common/uart.c (the kernel's console is kprintf's sink). hvm/ boots through
# common/crt0.S; pv/ brings its own S-mode crt0.S.
TOS=guests/teaching-os
tos_kernel=$(compile_dir "$TOS/kernel" tos-kernel -I"$TOS/include")
tos_common_hvm=$(echo "$common_objs" | grep -v -e '/uart\.c\.o$')
for layer in hvm pv; do
  objs=$(compile_dir "$TOS/$layer" "tos-$layer" -I"$TOS/include")
  base="$tos_common_hvm"
  [[ "$layer" == pv ]] && base="$pv_common_objs"
  # shellcheck disable=SC2086  # word splitting of object lists is intended
  "$LD" -nostdlib --no-relax --build-id=none --strip-debug --discard-locals -T "$TOS/link.ld" \
    -o "$OUT/teaching-os-$layer.elf" $base $tos_kernel $objs "$LIBGCC"
  echo "built $OUT/teaching-os-$layer.elf ($(stat -c %s "$OUT/teaching-os-$layer.elf") bytes)"
done
