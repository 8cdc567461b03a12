#!/usr/bin/env bash
# Build hyperlab's Linux guest from Debian's packages: Linux 6.12 for rv32 without an MMU,
# running in M-mode on the `virt` board, and the initramfs holding /init (docs/linux.md).
#
#   bash guests/linux/build.sh             # -> public/guests/linux/ (the committed images)
#                                          #    and guests/linux/linux-6.12-nommu.config
#   bash guests/linux/build.sh --out DIR   # -> DIR/ (everything, the resolved config too)
#
# Options: --work DIR (scratch space for the kernel tree and objects, default
# $HYPERLAB_LINUX_WORK or /tmp/hyperlab-linux; reused between runs), --jobs N (default
# nproc), --initramfs-only (rebuild only /init and the initramfs, with the kernel's
# usr/gen_init_cpio from --work if it is there, else compiled from the source package).
#
# Needs linux-source-6.12 and gcc-riscv64-linux-gnu (plus the kernel's host tools); as
# root the missing packages are installed with apt-get. Everything that could vary
# between builds is fixed (timestamps, user and host names, paths), so a rebuild with
# the same Debian package versions gives the same bytes.
set -euo pipefail
shopt -s inherit_errexit

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/guests/linux"
OUT="$ROOT/public/guests/linux"
CONFIG_OUT="$HERE/linux-6.12-nommu.config"
WORK="${HYPERLAB_LINUX_WORK:-/tmp/hyperlab-linux}"
JOBS="$(nproc)"
INITRAMFS_ONLY=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT="$(mkdir -p "${2:?--out needs a directory}" && cd "$2" && pwd)"; CONFIG_OUT="$OUT/linux-6.12-nommu.config"; shift 2 ;;
    --work) WORK="${2:?--work needs a directory}"; shift 2 ;;
    --jobs) JOBS="${2:?--jobs needs a number}"; shift 2 ;;
    --initramfs-only) INITRAMFS_ONLY=1; shift ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

# ---- packages ----
PACKAGES=(linux-source-6.12 gcc-riscv64-linux-gnu binutils-riscv64-linux-gnu gcc libc6-dev xz-utils)
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

SRC_TAR=/usr/src/linux-source-6.12.tar.xz
SRC_VERSION="$(dpkg-query -W -f='${Version}' linux-source-6.12)"
CROSS=riscv64-linux-gnu-

# Fixed build identity: "Linux version 6.12.x (hyperlab@hyperlab) ... #1 <date>".
EPOCH=1735689600 # 2025-01-01 00:00:00 UTC
export KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$EPOCH")"
export KBUILD_BUILD_USER=hyperlab KBUILD_BUILD_HOST=hyperlab KBUILD_BUILD_VERSION=1
export SOURCE_DATE_EPOCH=$EPOCH LC_ALL=C TZ=UTC

# ---- the kernel tree (unpacked once per Debian version) ----
TREE="$WORK/linux-source-6.12"
KOBJ="$WORK/obj-nommu"
KMAKE=(make -C "$TREE" O="$KOBJ" ARCH=riscv CROSS_COMPILE="$CROSS" -j"$JOBS" -s)
if [[ $INITRAMFS_ONLY -eq 0 && "$(cat "$WORK/.source-version" 2>/dev/null)" != "$SRC_VERSION" ]]; then
  echo "build.sh: unpacking $SRC_TAR ($SRC_VERSION) into $WORK" >&2
  mkdir -p "$WORK"
  rm -rf "$TREE" "$KOBJ"
  tar -C "$WORK" -xf "$SRC_TAR"
  echo "$SRC_VERSION" >"$WORK/.source-version"
fi

mkdir -p "$OUT"
BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT

no_rvc() {  # no_rvc ELF: refuse an image with compressed instructions (EF_RISCV_RVC)
  local flags
  flags="$("${CROSS}readelf" -h "$1" | awk '/Flags:/ { sub(",", "", $2); print $2 }')"
  if (( flags & 1 )); then echo "build.sh: $1 uses compressed instructions" >&2; exit 1; fi
}

# ---- the kernel ----
if [[ $INITRAMFS_ONLY -eq 0 ]]; then
  echo "build.sh: configuring (allnoconfig + linux-6.12-nommu.fragment.config)" >&2
  "${KMAKE[@]}" KCONFIG_ALLCONFIG="$HERE/linux-6.12-nommu.fragment.config" allnoconfig
  # Every option the fragment sets must have survived (a dependency may drop one silently).
  while IFS= read -r line; do
    if [[ "$line" =~ ^CONFIG_ ]]; then
      grep -qxF "$line" "$KOBJ/.config" || { echo "build.sh: $line did not stick" >&2; exit 1; }
    elif [[ "$line" =~ ^#\ (CONFIG_[A-Z0-9_]+)\ is\ not\ set$ ]]; then
      ! grep -q "^${BASH_REMATCH[1]}=" "$KOBJ/.config" || { echo "build.sh: ${BASH_REMATCH[1]} is still set" >&2; exit 1; }
    fi
  done <"$HERE/linux-6.12-nommu.fragment.config"
  echo "build.sh: building the kernel (make -j$JOBS Image)" >&2
  "${KMAKE[@]}" Image
  no_rvc "$KOBJ/vmlinux"
  cp "$KOBJ/arch/riscv/boot/Image" "$OUT/linux-6.12-nommu.Image"
  # The resolved configuration, for reference; CONFIG_CC_VERSION_TEXT names the compiler.
  # Left out: what describes the build host rather than the kernel (rustc, pahole).
  sed -e '/^# Linux\/riscv .* Kernel Configuration$/d' -e '/^# Compiler: /d' \
    -e '/^CONFIG_RUSTC_/d' -e '/^CONFIG_PAHOLE_VERSION=/d' "$KOBJ/.config" >"$CONFIG_OUT"
fi
GEN_INIT_CPIO="$KOBJ/usr/gen_init_cpio"
if [[ ! -x "$GEN_INIT_CPIO" || "$(cat "$WORK/.source-version" 2>/dev/null)" != "$SRC_VERSION" ]]; then
  # --initramfs-only without a kernel build in --work: compile just the kernel's tool.
  tar -xOf "$SRC_TAR" linux-source-6.12/usr/gen_init_cpio.c >"$BUILD/gen_init_cpio.c"
  gcc -O2 -o "$BUILD/gen_init_cpio" "$BUILD/gen_init_cpio.c"
  GEN_INIT_CPIO="$BUILD/gen_init_cpio"
fi

# ---- /init: a static PIE with no dynamic relocations ----
echo "build.sh: building /init and the initramfs" >&2
"${CROSS}gcc" -march=rv32ima -mabi=ilp32 -Os -fPIE -mno-relax \
  -ffreestanding -fno-builtin -fno-stack-protector -fno-asynchronous-unwind-tables -fno-unwind-tables \
  -ffunction-sections -fdata-sections -ffile-prefix-map="$ROOT"/= -Wall -Wextra -Werror \
  -nostdlib -static-pie -Wl,--no-dynamic-linker -Wl,--no-relax -Wl,--build-id=none \
  -Wl,-z,stack-size=65536 -Wl,--gc-sections -s \
  -o "$BUILD/init" "$HERE/initramfs/init.c"
no_rvc "$BUILD/init"
if "${CROSS}readelf" -lr "$BUILD/init" | grep -q 'INTERP\|R_RISCV'; then
  echo "build.sh: /init needs a dynamic linker or relocations; the FDPIC loader will not apply them" >&2
  exit 1
fi
sed -e "s|@BUILD@|$BUILD|g" -e "s|@SRC@|$HERE/initramfs|g" "$HERE/initramfs/initramfs.list" >"$BUILD/list"
"$GEN_INIT_CPIO" -t "$EPOCH" "$BUILD/list" >"$OUT/initramfs.cpio"

if [[ $INITRAMFS_ONLY -eq 0 ]]; then echo "built $OUT/linux-6.12-nommu.Image ($(stat -c %s "$OUT/linux-6.12-nommu.Image") bytes)"; fi
echo "built $OUT/initramfs.cpio ($(stat -c %s "$OUT/initramfs.cpio") bytes)"
