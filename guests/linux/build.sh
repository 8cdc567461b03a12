#!/usr/bin/env bash
# Build hyperlab's Linux guests from Debian's packages (docs/linux.md):
#   - Linux 6.12 for rv32 without an MMU, running in M-mode on the `virt` board;
#   - Linux 6.1 for rv32 with the Sv32 MMU, running in S-mode on an SBI firmware
#     (hyperlab's hvm domains with firmware = "sbi");
#   - the initramfs holding the userland (guests/linux/userland/: /bin/box, a multi-call
#     binary over nolibc, with /init and the commands as links to it), which serves both;
#   - rootfs.qcow2, the same userland on an ext2 file system, the root disk of both
#     (root=/dev/vda), the read-only base under each domain's overlay;
#   - guests/linux/qemu-sbi-shim/shim.bin, the M-mode SBI firmware that boots kernel 2
#     on qemu-system-riscv32 (the reference machine), which Debian ships without an
#     rv32 OpenSBI.
#
#   bash guests/linux/build.sh             # -> public/guests/linux/ (the committed images)
#                                          #    and guests/linux/linux-*.config
#   bash guests/linux/build.sh --out DIR   # -> DIR/ (everything, the resolved configs too)
#
# Options: --work DIR (scratch space for the kernel trees and objects, default
# $HYPERLAB_LINUX_WORK or /tmp/hyperlab-linux; reused between runs), --jobs N (default
# nproc), --kernel nommu|mmu|all (which kernels, default all), --initramfs-only (rebuild
# only the userland and the initramfs, from the kernel tree in --work if it is there, else
# from the few files they need out of the source package).
#
# Needs linux-source-6.12, linux-source-6.1 and gcc-riscv64-linux-gnu (plus the kernel's
# host tools); as root the missing packages are installed with apt-get. Everything that
# could vary between builds is fixed (timestamps, user and host names, paths), so a
# rebuild with the same Debian package versions gives the same bytes.
set -euo pipefail
shopt -s inherit_errexit
# mke2fs, debugfs and e2fsck live in /sbin, which a user's PATH may lack
export PATH="$PATH:/usr/sbin:/sbin"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/guests/linux"
OUT="$ROOT/public/guests/linux"
CONFIG_DIR="$HERE"
WORK="${HYPERLAB_LINUX_WORK:-/tmp/hyperlab-linux}"
JOBS="$(nproc)"
INITRAMFS_ONLY=0
KERNELS=(nommu mmu)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$(mkdir -p "${2:?--out needs a directory}" && cd "$2" && pwd)"; CONFIG_DIR="$OUT"; shift 2 ;;
    --work) WORK="${2:?--work needs a directory}"; shift 2 ;;
    --jobs) JOBS="${2:?--jobs needs a number}"; shift 2 ;;
    --kernel)
      case "${2:-}" in
        nommu|mmu) KERNELS=("$2") ;;
        all) KERNELS=(nommu mmu) ;;
        *) echo "build.sh: --kernel is nommu, mmu or all" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --initramfs-only) INITRAMFS_ONLY=1; KERNELS=(); shift ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# ---- packages ----
PACKAGES=(linux-source-6.12 linux-source-6.1 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu gcc libc6-dev xz-utils e2fsprogs qemu-utils)
[[ $INITRAMFS_ONLY -eq 1 ]] || PACKAGES+=(make bc bison flex)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -eq 0 ]]; then
    echo "build.sh: installing ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2
  else
    echo "build.sh: missing packages: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

CROSS=riscv64-linux-gnu-
# The kernels: source package version, fragment/config/image name, object directory.
declare -A KVER=([nommu]=6.12 [mmu]=6.1)
declare -A KNAME=([nommu]=linux-6.12-nommu [mmu]=linux-6.1-mmu)

# Fixed build identity: "Linux version 6.12.x (hyperlab@hyperlab) ... #1 <date>".
EPOCH=1735689600 # 2025-01-01 00:00:00 UTC
export KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$EPOCH")"
export KBUILD_BUILD_USER=hyperlab KBUILD_BUILD_HOST=hyperlab KBUILD_BUILD_VERSION=1
export SOURCE_DATE_EPOCH=$EPOCH LC_ALL=C TZ=UTC

src_version() { dpkg-query -W -f='${Version}' "linux-source-$1"; }
# Older runs of this script kept 6.12's version in .source-version.
[[ -f "$WORK/.source-version" && ! -f "$WORK/.source-version-6.12" ]] && mv "$WORK/.source-version" "$WORK/.source-version-6.12"

mkdir -p "$OUT"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT

no_rvc() {  # no_rvc ELF: refuse an image with compressed instructions (EF_RISCV_RVC)
  local flags
  flags="$("${CROSS}readelf" -h "$1" | awk '/Flags:/ { sub(",", "", $2); print $2 }')"
  if (( flags & 1 )); then echo "build.sh: $1 uses compressed instructions" >&2; exit 1; fi
}

# ---- the kernels ----
build_kernel() {  # build_kernel nommu|mmu
  local ver="${KVER[$1]}" name="${KNAME[$1]}"
  local tree="$WORK/linux-source-$ver" kobj="$WORK/obj-$1" fragment="$HERE/${KNAME[$1]}.fragment.config"
  local src_tar="/usr/src/linux-source-$ver.tar.xz" version
  version="$(src_version "$ver")"
  local kmake=(make -C "$tree" O="$kobj" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS" -s)
  # the kernel tree, unpacked once per Debian version
  if [[ "$(cat "$WORK/.source-version-$ver" 2>/dev/null)" != "$version" ]]; then
    echo "build.sh: unpacking $src_tar ($version) into $WORK" >&2
    mkdir -p "$WORK"
    rm -rf "$tree" "$kobj"
    tar -C "$WORK" -xf "$src_tar"
    echo "$version" >"$WORK/.source-version-$ver"
  fi
  echo "build.sh: configuring $name (allnoconfig + $name.fragment.config)" >&2
  "${kmake[@]}" KCONFIG_ALLCONFIG="$fragment" allnoconfig
  # Every option the fragment sets must have survived (a dependency may drop one silently).
  while IFS= read -r line; do
    if [[ "$line" =~ ^CONFIG_ ]]; then
      grep -qxF "$line" "$kobj/.config" || { echo "build.sh: $line did not stick" >&2; exit 1; }
    elif [[ "$line" =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
      ! grep -q "^${BASH_REMATCH[1]}=" "$kobj/.config" || { echo "build.sh: ${BASH_REMATCH[1]} is still set" >&2; exit 1; }
    fi
  done <"$fragment"
  echo "build.sh: building $name (make -j$JOBS Image)" >&2
  "${kmake[@]}" Image
  no_rvc "$kobj/vmlinux"
  cp "$kobj/arch/riscv/boot/Image" "$OUT/$name.Image"
  # The resolved configuration, for reference; CONFIG_CC_VERSION_TEXT names the compiler.
  # Left out: what describes the build host rather than the kernel (rustc, pahole).
  sed -e '/^# Linux\/riscv .* Kernel Configuration$/d' -e '/^# Compiler: /d' \
    -e '/^CONFIG_RUSTC_/d' -e '/^CONFIG_PAHOLE_VERSION=/d' "$kobj/.config" >"$CONFIG_DIR/$name.config"
  echo "built $OUT/$name.Image ($(stat -c %s "$OUT/$name.Image") bytes)"
}
for k in "${KERNELS[@]}"; do build_kernel "$k"; done

# ---- the userland's sources from linux-source-6.12: nolibc, the UAPI headers, gen_init_cpio ----
# The kernel tree in --work when a kernel build unpacked it, else just these files.
SRC612="$WORK/linux-source-6.12"
if [[ ! -d "$SRC612/tools/include/nolibc" || "$(cat "$WORK/.source-version-6.12" 2>/dev/null)" != "$(src_version 6.12)" ]]; then
  SRC612="$BUILD/linux-source-6.12"
  tar -C "$BUILD" -xf /usr/src/linux-source-6.12.tar.xz --wildcards \
    'linux-source-6.12/include/uapi/*' 'linux-source-6.12/arch/riscv/include/uapi/*' \
    'linux-source-6.12/tools/include/nolibc/*' 'linux-source-6.12/scripts/syscall*' \
    linux-source-6.12/scripts/headers_install.sh linux-source-6.12/scripts/unifdef.c linux-source-6.12/usr/gen_init_cpio.c
fi

# gen_init_cpio from 6.12's kernel build, else compiled from its source
GEN_INIT_CPIO="$WORK/obj-nommu/usr/gen_init_cpio"
if [[ ! -x "$GEN_INIT_CPIO" || "$SRC612" == "$BUILD"/* ]]; then
  gcc -O2 -o "$BUILD/gen_init_cpio" "$SRC612/usr/gen_init_cpio.c"
  GEN_INIT_CPIO="$BUILD/gen_init_cpio"
fi

# The UAPI headers nolibc and the userland include, prepared as `make headers_install`
# prepares them (scripts/headers_install.sh: no __KERNEL__ parts, no compiler.h), but only
# those reached from the #includes: the whole set takes minutes on a loaded machine.
# asm/ is riscv's, with asm-generic stand-ins for the headers riscv does not have, and
# unistd_32.h generated from the syscall table with riscv's 32-bit ABIs.
install_uapi_headers() {  # install_uapi_headers SRC DEST
  local src="$1" dest="$2" h from
  local -a queue
  local -A seen=()
  gcc -O2 -o "$BUILD/unifdef" "$src/scripts/unifdef.c"
  mkdir -p "$dest/linux" "$dest/asm" "$dest/asm-generic"
  sh "$src/scripts/syscallhdr.sh" --abis common,32,riscv,memfd_secret --emit-nr "$src/scripts/syscall.tbl" "$dest/asm/unistd_32.h"
  seen[asm/unistd_32.h]=1 seen[asm/unistd_64.h]=1  # (rv64's, named in asm/unistd.h)
  mapfile -t queue < <(cat "$src"/tools/include/nolibc/*.h "$HERE"/userland/*.[ch] | sed -n 's/^#include <\(\(linux\|asm\|asm-generic\)\/[^>]*\)>.*/\1/p' | sort -u)
  while [[ ${#queue[@]} -gt 0 ]]; do
    h="${queue[0]}"; queue=("${queue[@]:1}")
    [[ -n "${seen[$h]:-}" ]] && continue
    seen[$h]=1
    case "$h" in
      linux/*|asm-generic/*) from="$src/include/uapi/$h" ;;
      asm/*) from="$src/arch/riscv/include/uapi/$h"
        if [[ ! -f "$from" ]]; then
          echo "#include <asm-generic/${h#asm/}>" >"$dest/$h"
          queue+=("asm-generic/${h#asm/}")
          continue
        fi ;;
    esac
    [[ -f "$from" ]] || { echo "build.sh: no UAPI header $h" >&2; exit 1; }
    mkdir -p "$(dirname "$dest/$h")"
    (cd "$src" && sed -e 's|scripts/unifdef|"$UNIFDEF"|' scripts/headers_install.sh | UNIFDEF="$BUILD/unifdef" sh -s "$from" "$dest/$h")
    mapfile -t -O "${#queue[@]}" queue < <(sed -n 's/^#include <\(\(linux\|asm\|asm-generic\)\/[^>]*\)>.*/\1/p' "$dest/$h")
  done
}

# ---- /bin/box: the userland (guests/linux/userland/), a static PIE that relocates itself ----
echo "build.sh: building the userland and the initramfs" >&2
install_uapi_headers "$SRC612" "$BUILD/include"
"${CROSS}gcc" -march=rv32ima -mabi=ilp32 -Os -fPIE -mno-relax \
  -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
  -ffunction-sections -fdata-sections -ffile-prefix-map="$ROOT"/= -ffile-prefix-map="$BUILD"/= -Wall -Wextra -Werror \
  -nostdinc -isystem "$("${CROSS}gcc" -print-file-name=include)" -I "$BUILD/include" -I "$SRC612/tools/include/nolibc" \
  -nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,--no-relax -Wl,--build-id=none -Wl,-e,box_start \
  -Wl,-z,stack-size=65536 -Wl,--gc-sections -s \
  -o "$BUILD/box" "$HERE"/userland/*.c
no_rvc "$BUILD/box"
# Only R_RISCV_RELATIVE relocations, which box_start applies itself (userland/sys.c).
if "${CROSS}readelf" -lr "$BUILD/box" | grep -q 'INTERP' ||
   "${CROSS}readelf" -r "$BUILD/box" | grep 'R_RISCV' | grep -qv 'R_RISCV_RELATIVE'; then
  echo "build.sh: box needs a dynamic linker or relocations other than R_RISCV_RELATIVE" >&2
  exit 1
fi
sed -e "s|@BUILD@|$BUILD|g" -e "s|@SRC@|$HERE/initramfs|g" "$HERE/initramfs/initramfs.list" >"$BUILD/list"
"$GEN_INIT_CPIO" -t "$EPOCH" "$BUILD/list" >"$OUT/initramfs.cpio"

echo "built $OUT/initramfs.cpio ($(stat -c %s "$OUT/initramfs.cpio") bytes)"

# ---- the root file system: the same tree on ext2, for root=/dev/vda (docs/linux.md) ----
# Staged from initramfs.list (device nodes aside: devtmpfs makes them), with the disk's own
# motd, then `mke2fs -d`. Made reproducible: fixed UUID and directory hash seed, every
# timestamp at $EPOCH (E2FSPROGS_FAKE_TIME for what mke2fs and debugfs stamp, then debugfs
# for the times -d copies from the staging tree), owner root whoever builds.
# Shipped as qcow2 (qemu-img convert, uncompressed: hyperlab's image layer refuses
# compressed clusters), which holds only the clusters in use: a 64 MiB disk in ~1 MiB.
ROOTFS_SIZE=64M
ROOTFS_UUID=6b1f2d4c-1e2a-4c3b-8d4e-68797065726c
STAGE="$BUILD/rootfs"
mkdir "$STAGE"
while read -r kind path a b _; do
  case "$kind" in
    dir) mkdir -p "$STAGE$path"; chmod "$a" "$STAGE$path" ;;
    file) cp "${a//@BUILD@/$BUILD}" "$STAGE$path"; chmod "$b" "$STAGE$path" ;;
    slink) ln -s "$a" "$STAGE$path" ;;
  esac
done < <(sed -e "s|@SRC@|$HERE/initramfs|g" "$HERE/initramfs/initramfs.list")
cp "$HERE/rootfs/motd" "$STAGE/etc/motd"
export E2FSPROGS_FAKE_TIME=$EPOCH
mke2fs -q -F -t ext2 -b 4096 -I 256 -N 1024 -m 0 -L rootfs -U "$ROOTFS_UUID" \
  -E "root_owner=0:0,hash_seed=$ROOTFS_UUID" -d "$STAGE" "$BUILD/rootfs.ext2" "$ROOTFS_SIZE" >/dev/null
(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\.||' | while read -r p; do
  printf 'sif %s %s\n' "$p" "uid 0" "$p" "gid 0" "$p" "ctime @$EPOCH" "$p" "atime @$EPOCH" "$p" "mtime @$EPOCH"
done) >"$BUILD/rootfs.debugfs"
debugfs -w -f "$BUILD/rootfs.debugfs" "$BUILD/rootfs.ext2" >/dev/null 2>"$BUILD/debugfs.err" ||
  { cat "$BUILD/debugfs.err" >&2; exit 1; }
! grep -v '^debugfs ' "$BUILD/debugfs.err" | grep -q . || { cat "$BUILD/debugfs.err" >&2; exit 1; }
e2fsck -fn "$BUILD/rootfs.ext2" >"$BUILD/e2fsck.out" 2>&1 || { cat "$BUILD/e2fsck.out" >&2; echo "build.sh: e2fsck finds the rootfs damaged" >&2; exit 1; }
unset E2FSPROGS_FAKE_TIME
qemu-img convert -f raw -O qcow2 "$BUILD/rootfs.ext2" "$OUT/rootfs.qcow2"
echo "built $OUT/rootfs.qcow2 ($(stat -c %s "$OUT/rootfs.qcow2") bytes, $ROOTFS_SIZE ext2)"

# ---- the SBI shim for QEMU (kept beside its source; with --out, in DIR) ----
SHIM_OUT="$HERE/qemu-sbi-shim/shim.bin"
[[ "$OUT" == "$ROOT/public/guests/linux" ]] || SHIM_OUT="$OUT/qemu-sbi-shim.bin"
"${CROSS}gcc" -march=rv32ima_zicsr_zifencei -mabi=ilp32 -nostdlib -nostartfiles -static \
  -Wl,-Ttext=0x80000000 -Wl,-N -Wl,--build-id=none -Wl,--no-warn-rwx-segments \
  -o "$BUILD/shim.elf" "$HERE/qemu-sbi-shim/shim.S"
"${CROSS}objcopy" -O binary "$BUILD/shim.elf" "$SHIM_OUT"
echo "built $SHIM_OUT ($(stat -c %s "$SHIM_OUT") bytes)"
